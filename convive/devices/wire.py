"""The wire format of a panic press, over HTTP and over MQTT (``docs/integrations.md``).

Pure functions, no database: parsing, the bytes that are signed, and the signature itself.

- HTTP: the body is ``{"device": "TOTEM-0001", "counter": 42, "sent_at": "2026-11-26T20:00:00Z"}``
  and the header ``X-Convive-Signature: sha256=<hex>`` carries HMAC-SHA256 of the *exact body
  bytes* under the device's key.
- MQTT: the payload is the same object plus ``"signature": "<hex>"``; the signed bytes are the
  object *without* ``signature``, serialised canonically: keys sorted, no spaces
  (``separators=(",", ":")``), UTF-8 without escaping (``ensure_ascii=False``). See
  ``canonical_bytes``.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import re
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.utils.translation import gettext as _

from convive.devices.models import DEVICE_CODE_PATTERN, MAX_DEVICE_CODE

SIGNATURE_HEADER = "X-Convive-Signature"
SIGNATURE_PREFIX = "sha256="
MAX_BODY_BYTES = 2_048  # a press is about 80 bytes
MAX_COUNTER = 2**63 - 1  # the column is a signed 64-bit integer
_HEX64 = re.compile(r"^[0-9a-f]{64}$")


class MalformedPressError(Exception):
    """The message cannot be read as a press. ``device_code`` is what it named, if anything."""

    def __init__(self, message: str, *, device_code: str = ""):
        super().__init__(message)
        self.message = message
        self.device_code = device_code[:MAX_DEVICE_CODE]


@dataclass(frozen=True)
class Press:
    """A press as read from the wire, not yet authenticated."""

    device_code: str
    counter: int
    sent_at: datetime
    signature: str  # lowercase hex of the HMAC-SHA256
    signed_bytes: bytes  # what the signature must be computed over


def sign(secret: str, message: bytes) -> str:
    """HMAC-SHA256 of ``message`` under ``secret`` (UTF-8), as 64 lowercase hex digits."""
    return hmac.new(secret.encode("utf-8"), message, hashlib.sha256).hexdigest()


def signature_matches(secret: str, message: bytes, signature: str) -> bool:
    return hmac.compare_digest(sign(secret, message), signature)


def canonical_bytes(fields: dict[str, Any]) -> bytes:
    """The bytes an MQTT press is signed over: ``fields`` without ``signature``, canonical JSON."""
    unsigned = {key: value for key, value in fields.items() if key != "signature"}
    text = json.dumps(unsigned, sort_keys=True, separators=(",", ":"), ensure_ascii=False)
    return text.encode("utf-8")


def _load(raw: bytes) -> dict[str, Any]:
    if len(raw) > MAX_BODY_BYTES:
        raise MalformedPressError(_("The message is too long for a press."))
    try:
        fields = json.loads(raw.decode("utf-8"))
    except (UnicodeDecodeError, ValueError) as exc:
        raise MalformedPressError(_("The message is not valid JSON.")) from exc
    if not isinstance(fields, dict):
        raise MalformedPressError(_("The message must be a JSON object."))
    return fields


def _device_code(fields: dict[str, Any]) -> str:
    code = fields.get("device")
    if not isinstance(code, str) or not re.match(DEVICE_CODE_PATTERN, code):
        shown = code[:MAX_DEVICE_CODE] if isinstance(code, str) else ""
        raise MalformedPressError(_("“device” must be the code of the device."), device_code=shown)
    return code


def _counter(fields: dict[str, Any], code: str) -> int:
    counter = fields.get("counter")
    if isinstance(counter, bool) or not isinstance(counter, int) or not 0 < counter <= MAX_COUNTER:
        raise MalformedPressError(_("“counter” must be a whole number above 0."), device_code=code)
    return counter


def _sent_at(fields: dict[str, Any], code: str) -> datetime:
    raw = fields.get("sent_at")
    try:
        sent_at = datetime.fromisoformat(raw) if isinstance(raw, str) else None
    except ValueError:
        sent_at = None
    if sent_at is None or sent_at.tzinfo is None:
        raise MalformedPressError(
            _("“sent_at” must be an ISO 8601 date and time with its time zone."), device_code=code
        )
    return sent_at


def _signature(value: Any, code: str) -> str:
    if not isinstance(value, str) or not _HEX64.match(value.lower()):
        raise MalformedPressError(
            _("The signature must be 64 hexadecimal digits (HMAC-SHA256)."), device_code=code
        )
    return value.lower()


def parse_http_press(body: bytes, signature_header: str | None) -> Press:
    """A press from the webhook: the body and its ``X-Convive-Signature`` header."""
    fields = _load(body)
    code = _device_code(fields)
    header = (signature_header or "").strip()
    if not header.lower().startswith(SIGNATURE_PREFIX):
        raise MalformedPressError(
            _("Sign the body: header X-Convive-Signature: sha256=<hex>."), device_code=code
        )
    signature = _signature(header[len(SIGNATURE_PREFIX) :], code)
    return Press(code, _counter(fields, code), _sent_at(fields, code), signature, body)


def parse_mqtt_press(payload: bytes, *, topic_device_code: str) -> Press:
    """A press from ``<prefix>/<city>/panic/<device-code>``: the payload names the same device."""
    fields = _load(payload)
    code = _device_code(fields)
    if code != topic_device_code:
        raise MalformedPressError(
            _("The device in the message is not the device of the topic."), device_code=code
        )
    signature = _signature(fields.get("signature"), code)
    counter, sent_at = _counter(fields, code), _sent_at(fields, code)
    return Press(code, counter, sent_at, signature, canonical_bytes(fields))
