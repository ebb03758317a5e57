"""The wire format: what is signed, and what cannot be read as a press."""

import json

import pytest

from convive.devices.wire import (
    MalformedPressError,
    canonical_bytes,
    parse_http_press,
    parse_mqtt_press,
    sign,
)

SECRET = "k" * 43
SENT_AT = "2026-11-26T20:00:00+00:00"


def test_the_http_signature_is_the_hmac_sha256_of_the_exact_body():
    body = b'{"device": "TOTEM-0001", "counter": 3, "sent_at": "2026-11-26T20:00:00Z"}'
    signature = sign(SECRET, body)

    press = parse_http_press(body, f"sha256={signature.upper()}")

    assert (press.device_code, press.counter, press.signed_bytes) == ("TOTEM-0001", 3, body)
    assert press.signature == signature
    assert press.sent_at.isoformat() == SENT_AT


def test_an_mqtt_press_is_signed_over_the_canonical_json_without_its_signature():
    fields = {"sent_at": SENT_AT, "counter": 3, "device": "TOTEM-1"}
    expected = b'{"counter":3,"device":"TOTEM-1","sent_at":"2026-11-26T20:00:00+00:00"}'
    assert canonical_bytes({**fields, "signature": "ignored"}) == expected

    payload = json.dumps({**fields, "signature": sign(SECRET, expected)}, indent=4).encode()
    press = parse_mqtt_press(payload, topic_device_code="TOTEM-1")

    assert press.signed_bytes == expected
    assert press.signature == sign(SECRET, expected)


def test_canonical_json_keeps_non_ascii_text_as_utf8():
    assert canonical_bytes({"b": "ñ", "a": 1}) == '{"a":1,"b":"ñ"}'.encode()


GOOD = {"device": "TOTEM-1", "counter": 1, "sent_at": SENT_AT}


@pytest.mark.parametrize(
    ("body", "code"),
    [
        (b"not json", ""),
        (b"[1, 2]", ""),
        (b"\xff\xfe", ""),
        (b"{" + b" " * 3000 + b"}", ""),
        (json.dumps({**GOOD, "device": "a/b"}).encode(), "a/b"),
        (json.dumps({**GOOD, "device": 7}).encode(), ""),
        (json.dumps({**GOOD, "counter": 0}).encode(), "TOTEM-1"),
        (json.dumps({**GOOD, "counter": True}).encode(), "TOTEM-1"),
        (json.dumps({**GOOD, "counter": "5"}).encode(), "TOTEM-1"),
        (json.dumps({**GOOD, "counter": 2**63}).encode(), "TOTEM-1"),
        (json.dumps({**GOOD, "sent_at": "2026-11-26T20:00:00"}).encode(), "TOTEM-1"),
        (json.dumps({**GOOD, "sent_at": "yesterday"}).encode(), "TOTEM-1"),
        (json.dumps({**GOOD, "sent_at": 1764187200}).encode(), "TOTEM-1"),
    ],
)
def test_what_is_not_a_press_is_refused_naming_the_device_if_it_can(body, code):
    with pytest.raises(MalformedPressError) as refused:
        parse_http_press(body, "sha256=" + "0" * 64)

    assert refused.value.device_code == code
    assert refused.value.message


@pytest.mark.parametrize("header", [None, "", "0" * 64, "sha1=" + "0" * 40, "sha256=xyz"])
def test_a_webhook_press_needs_a_sha256_signature_header(header):
    with pytest.raises(MalformedPressError):
        parse_http_press(json.dumps(GOOD).encode(), header)


@pytest.mark.parametrize(
    ("fields", "topic_code"),
    [
        (GOOD, "TOTEM-1"),  # no signature
        ({**GOOD, "signature": 12}, "TOTEM-1"),
        ({**GOOD, "signature": "0" * 64}, "TOTEM-2"),  # another device's topic
    ],
)
def test_an_mqtt_press_must_be_signed_and_match_its_topic(fields, topic_code):
    with pytest.raises(MalformedPressError):
        parse_mqtt_press(json.dumps(fields).encode(), topic_device_code=topic_code)
