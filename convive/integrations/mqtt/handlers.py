"""One MQTT message in, one action called: plain functions, called by the listener and the tests.

``handle_message`` never raises: a message that cannot be used is refused and logged (a
``DeviceRejection`` for a panic press, a warning naming the topic for a position), and the
listener goes on with the next one.
"""

from __future__ import annotations

import json
import logging
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.conf import settings
from django.db import transaction

from convive.core.errors import ActionError
from convive.devices.actions import PressRefusedError, check_panic_press, do_record_device_rejection
from convive.devices.models import DeviceRejection
from convive.devices.wire import MAX_BODY_BYTES, MalformedPressError, parse_mqtt_press
from convive.units.actions import PositionInput, check_record_positions_batch
from convive.units.models import Unit

logger = logging.getLogger(__name__)
MQTT = DeviceRejection.Source.MQTT


@dataclass(frozen=True)
class Outcome:
    """What became of a message: ``accepted`` or not, why, and the incident a press opened."""

    accepted: bool
    message: str = ""
    incident_id: int | None = None


def handle_message(topic: str, payload: bytes, *, prefix: str | None = None) -> Outcome:
    """Dispatch by topic: ``<prefix>/<city>/panic/<code>`` or ``.../units/<id>/position``."""
    prefix = settings.MQTT_TOPIC_PREFIX if prefix is None else prefix
    levels = topic.split("/")
    try:
        if len(levels) == 4 and levels[0] == prefix and levels[2] == "panic":
            return handle_panic(levels[1], levels[3], payload)
        if len(levels) == 5 and levels[0] == prefix and levels[2:5:2] == ["units", "position"]:
            return handle_position(levels[1], levels[3], payload, topic=topic)
    except Exception:  # never let one message stop the listener
        logger.exception("MQTT message on %s could not be handled", topic)
        return Outcome(False, "error")
    logger.warning("MQTT message on an unknown topic %s ignored", topic)
    return Outcome(False, "unknown topic")


def handle_panic(city_slug: str, device_code: str, payload: bytes) -> Outcome:
    try:
        press = parse_mqtt_press(payload, topic_device_code=device_code)
    except MalformedPressError as malformed:
        with transaction.atomic(durable=True):
            do_record_device_rejection(
                device_code=malformed.device_code or device_code,
                reason=DeviceRejection.Reason.MALFORMED,
                source=MQTT,
                detail=malformed.message,
            )
        logger.warning("Panic press from %s refused: %s", device_code[:40], malformed.message)
        return Outcome(False, malformed.message)
    refused: ActionError | None = None
    with transaction.atomic(durable=True):
        try:
            incident = check_panic_press(press, source=MQTT, city_slug=city_slug)
        except ActionError as error:  # caught inside: the record of a refusal is kept
            refused = error
    if refused is not None:
        log = logger.warning if isinstance(refused, PressRefusedError) else logger.error
        log("Panic press from %s refused: %s", press.device_code, refused.message)
        return Outcome(False, refused.message)
    logger.info("Panic press from %s opened incident %s", press.device_code, incident.reference)
    return Outcome(True, incident.reference, incident.pk)


def _fields(payload: bytes) -> dict[str, Any] | None:
    if len(payload) > MAX_BODY_BYTES:
        return None
    try:
        fields = json.loads(payload.decode("utf-8"))
    except (UnicodeDecodeError, ValueError):
        return None
    return fields if isinstance(fields, dict) else None


def _time(value: Any) -> Any:
    """An ISO 8601 string as a datetime; anything else as it is, for the action to refuse."""
    if isinstance(value, str):
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def handle_position(city_slug: str, unit_id: str, payload: bytes, *, topic: str) -> Outcome:
    """Keep one fix of an active unit of the city. The broker's ACL decides who may publish on
    the topic; here the unit must exist in that city and be active."""
    units = Unit.objects.select_related("institution__city").filter(
        institution__city__slug=city_slug, active=True
    )
    unit = units.filter(pk=int(unit_id)).first() if unit_id.isdigit() else None
    if unit is None:
        logger.warning("Position on %s refused: no active unit %s in that city", topic, unit_id)
        return Outcome(False, "unknown unit")
    fields = _fields(payload)
    if fields is None:
        logger.warning("Position on %s refused: the payload is not a JSON object", topic)
        return Outcome(False, "malformed")
    item = PositionInput(
        unit=unit,
        lon=fields.get("lon"),
        lat=fields.get("lat"),
        recorded_at=_time(fields.get("recorded_at")),
        source="mqtt",
        speed_kmh=fields.get("speed_kmh"),
        heading=fields.get("heading"),
        accuracy_m=fields.get("accuracy_m"),
    )
    with transaction.atomic(durable=True):
        (result,) = check_record_positions_batch([item])
    if result.error is not None:
        logger.warning("Position on %s refused: %s", topic, result.error.message)
        return Outcome(False, result.error.message)
    return Outcome(True, "stale" if not result.result.moved else "")
