"""Messages from the broker: handled by plain functions, and once through the real Mosquitto."""

import json
import logging
import time
import uuid
from datetime import timedelta

import paho.mqtt.client as mqtt
import pytest
from django.core.exceptions import ImproperlyConfigured
from django.utils import timezone

from convive.devices.models import DeviceRejection
from convive.devices.tests.conftest import KENNEDY_POINT, OUTSIDE_POINT
from convive.incidents.models import Incident
from convive.integrations.mqtt import (
    BrokerAddress,
    panic_topic,
    parse_broker_url,
    position_topic,
    subscriptions,
)
from convive.integrations.mqtt.handlers import handle_message
from convive.integrations.mqtt.listener import Listener
from convive.units.models import Unit, UnitPosition
from convive.units.tests.factories import UnitFactory

pytestmark = pytest.mark.usefixtures("english")
PANIC = panic_topic("convive", "testopolis", "TOTEM-0001")


# --- Panic presses ----------------------------------------------------------------------------


def test_a_signed_press_on_its_topic_opens_an_incident(button):
    outcome = handle_message(PANIC, button.mqtt_payload(1))

    incident = Incident.objects.get()
    assert (outcome.accepted, outcome.incident_id, outcome.message) == (
        True,
        incident.pk,
        incident.reference,
    )
    assert incident.sources.get().data == {"device": "TOTEM-0001", "counter": 1}


def test_a_replayed_message_is_refused_and_kept(button):
    payload = button.mqtt_payload(1)
    handle_message(PANIC, payload)

    outcome = handle_message(PANIC, payload)

    assert not outcome.accepted
    assert Incident.objects.count() == 1
    rejection = DeviceRejection.objects.get()
    assert (rejection.reason, rejection.source) == ("replay", "mqtt")


def test_a_press_signed_with_another_key_is_refused(button):
    payload = json.loads(button.mqtt_payload(1))
    payload["counter"] = 2  # changed after signing

    outcome = handle_message(PANIC, json.dumps(payload).encode())

    assert not outcome.accepted
    assert DeviceRejection.objects.get().reason == "bad_signature"


def test_a_press_on_another_citys_topic_is_an_unknown_device(button):
    topic = panic_topic("convive", "otra", "TOTEM-0001")

    assert not handle_message(topic, button.mqtt_payload(1)).accepted
    assert DeviceRejection.objects.get().reason == "unknown_device"


@pytest.mark.parametrize(
    "payload",
    [b"", b"\x00\x01", b"[]", b'{"device": "TOTEM-0001", "counter": 1}'],
)
def test_a_malformed_press_is_refused_and_kept_with_the_topics_device(button, payload):
    outcome = handle_message(PANIC, payload)

    assert not outcome.accepted
    rejection = DeviceRejection.objects.get()
    assert (rejection.reason, rejection.device_code, rejection.source) == (
        "malformed",
        "TOTEM-0001",
        "mqtt",
    )


def test_a_press_naming_another_device_than_its_topic_is_malformed(button):
    topic = panic_topic("convive", "testopolis", "TOTEM-0002")

    assert not handle_message(topic, button.mqtt_payload(1)).accepted
    assert DeviceRejection.objects.get().reason == "malformed"


@pytest.mark.parametrize(
    "topic",
    ["convive/testopolis/panic", "other/testopolis/panic/TOTEM-0001", "convive/x/units/1/speed"],
)
def test_an_unknown_topic_is_ignored_with_a_warning(button, topic, caplog):
    with caplog.at_level(logging.WARNING):
        outcome = handle_message(topic, button.mqtt_payload(1))

    assert not outcome.accepted
    assert topic in caplog.text
    assert not Incident.objects.exists()


def test_an_unexpected_error_is_logged_not_raised(button, monkeypatch, caplog):
    def broken(*args, **kwargs):
        raise RuntimeError("boom")

    monkeypatch.setattr("convive.integrations.mqtt.handlers.parse_mqtt_press", broken)

    with caplog.at_level(logging.ERROR):
        outcome = handle_message(PANIC, button.mqtt_payload(1))

    assert outcome == type(outcome)(False, "error")
    assert PANIC in caplog.text


# --- Unit positions ---------------------------------------------------------------------------


@pytest.fixture
def unit(world):
    return UnitFactory(institution=world.police, call_sign="P-101")


def fix(**overrides) -> bytes:
    fields = {
        "lon": KENNEDY_POINT[0],
        "lat": KENNEDY_POINT[1],
        "recorded_at": timezone.now().isoformat(),
        "speed_kmh": 42.5,
        "heading": 90,
        "accuracy_m": 8,
        **overrides,
    }
    return json.dumps(fields).encode()


def test_a_position_moves_the_unit_and_is_kept_as_mqtt(unit):
    outcome = handle_message(position_topic("convive", "testopolis", unit.pk), fix())

    assert outcome.accepted
    position = UnitPosition.objects.get()
    assert (position.unit, position.source, position.speed_kmh) == (unit, "mqtt", 42.5)
    unit.refresh_from_db()
    assert (unit.last_lon, unit.last_lat) == KENNEDY_POINT


def test_an_older_position_is_kept_but_does_not_move_the_unit(unit):
    topic = position_topic("convive", "testopolis", unit.pk)
    handle_message(topic, fix())
    older = (timezone.now() - timedelta(minutes=5)).isoformat()

    outcome = handle_message(topic, fix(recorded_at=older, lon=-74.16))

    assert (outcome.accepted, outcome.message) == (True, "stale")
    assert UnitPosition.objects.count() == 2
    unit.refresh_from_db()
    assert unit.last_lon == KENNEDY_POINT[0]


@pytest.mark.parametrize(
    ("city", "unit_id"),
    [("otra", None), ("testopolis", "999999"), ("testopolis", "P-101"), ("testopolis", "inactive")],
)
def test_a_position_for_no_active_unit_of_the_city_is_refused(unit, city, unit_id, caplog):
    if unit_id == "inactive":
        Unit.objects.filter(pk=unit.pk).update(active=False)
    topic = f"convive/{city}/units/{unit_id or unit.pk}/position"
    if unit_id == "inactive":
        topic = position_topic("convive", city, unit.pk)

    with caplog.at_level(logging.WARNING):
        outcome = handle_message(topic, fix())

    assert not outcome.accepted
    assert topic in caplog.text
    assert not UnitPosition.objects.exists()


@pytest.mark.parametrize(
    ("payload", "says"),
    [
        (b"not json", "JSON object"),
        (b"[1]", "JSON object"),
        (fix(lon="west"), "lon"),
        (fix(lon=OUTSIDE_POINT[0], lat=OUTSIDE_POINT[1]), "outside"),
        (fix(recorded_at="ayer"), "recorded_at"),
        (fix(recorded_at="2026-11-26T10:00:00"), "recorded_at"),
        (fix(speed_kmh=900), "speed_kmh"),
    ],
)
def test_a_bad_position_is_refused_with_a_warning_naming_the_topic(unit, payload, says, caplog):
    topic = position_topic("convive", "testopolis", unit.pk)

    with caplog.at_level(logging.WARNING):
        outcome = handle_message(topic, payload)

    assert not outcome.accepted
    assert topic in caplog.text
    assert says in caplog.text
    assert not UnitPosition.objects.exists()


# --- Settings ---------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("mqtt://127.0.0.1", BrokerAddress("127.0.0.1", 1883, None, None, False)),
        (
            "mqtts://convive:p%40ss@broker.example:8884",
            BrokerAddress("broker.example", 8884, "convive", "p@ss", True),
        ),
        ("mqtts://broker.example", BrokerAddress("broker.example", 8883, None, None, True)),
    ],
)
def test_the_broker_address_is_read_from_mqtt_url(url, expected):
    assert parse_broker_url(url) == expected


@pytest.mark.parametrize("url", ["", "http://broker", "mqtt://"])
def test_a_bad_mqtt_url_is_refused(url):
    with pytest.raises(ImproperlyConfigured):
        parse_broker_url(url)


def test_the_listener_subscribes_to_every_citys_panic_and_position_topics():
    assert subscriptions("convive") == ["convive/+/panic/+", "convive/+/units/+/position"]


# --- Through the real broker ------------------------------------------------------------------


def wait_for(condition, *, seconds: float = 10.0) -> bool:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if condition():
            return True
        time.sleep(0.05)
    return False


@pytest.mark.django_db(transaction=True)
def test_a_press_published_to_mosquitto_becomes_an_incident(mqtt_broker, button, unit):
    prefix = f"convive-test-{uuid.uuid4().hex[:8]}"  # no other run's messages
    listener = Listener(mqtt_broker, prefix=prefix, client_id=f"{prefix}-listener")
    listener.start()
    publisher = mqtt.Client(
        callback_api_version=mqtt.CallbackAPIVersion.VERSION2, client_id=f"{prefix}-device"
    )
    try:
        assert wait_for(lambda: listener.subscribed), "the listener did not subscribe"
        publisher.connect(mqtt_broker.host, mqtt_broker.port)
        publisher.loop_start()
        publisher.publish(panic_topic(prefix, "testopolis", "TOTEM-0001"), b"{broken", qos=1)
        publisher.publish(
            panic_topic(prefix, "testopolis", "TOTEM-0001"), button.mqtt_payload(1), qos=1
        )
        publisher.publish(
            position_topic(prefix, "testopolis", unit.pk), fix(), qos=1
        ).wait_for_publish(5)

        assert wait_for(lambda: Incident.objects.exists() and UnitPosition.objects.exists())
    finally:
        publisher.disconnect()
        publisher.loop_stop()
        listener.stop()
        # Forget the persistent session this test's client id left on the broker.
        cleaner = mqtt.Client(
            callback_api_version=mqtt.CallbackAPIVersion.VERSION2,
            client_id=f"{prefix}-listener",
            clean_session=True,
        )
        cleaner.connect(mqtt_broker.host, mqtt_broker.port)
        cleaner.disconnect()

    incident = Incident.objects.get()
    assert incident.sources.get().data == {"device": "TOTEM-0001", "counter": 1}
    assert DeviceRejection.objects.get().reason == "malformed"  # and the loop went on
    assert UnitPosition.objects.get().source == "mqtt"


def test_a_press_the_server_cannot_turn_into_an_incident_is_logged_as_an_error(
    button, panic_type, caplog
):
    panic_type.active = False
    panic_type.save(update_fields=["active"])

    with caplog.at_level(logging.ERROR):
        outcome = handle_message(PANIC, button.mqtt_payload(1))

    assert not outcome.accepted
    assert "TOTEM-0001" in caplog.text
    assert not DeviceRejection.objects.exists()


def test_an_oversized_position_is_refused(unit):
    topic = position_topic("convive", "testopolis", unit.pk)

    outcome = handle_message(topic, fix(padding="x" * 5000))

    assert (outcome.accepted, outcome.message) == (False, "malformed")


def test_the_listener_logs_in_and_uses_tls_when_the_url_says_so():
    broker = parse_broker_url("mqtts://convive:secreto@broker.example")

    listener = Listener(broker, prefix="convive", client_id="convive-test")

    assert listener.client._username == b"convive"
    assert listener.client._ssl
