"""Panic buttons on top of the root ``world`` (Testópolis: Kennedy with Timiza, Suba).

``mqtt_broker`` is the Mosquitto on 127.0.0.1:1883 (``MQTT_TEST_BROKER`` to point elsewhere):
tests that use it skip when it does not answer, except under CI, where they fail (as the root
``postgres`` and ``redis_url`` fixtures do).
"""

from __future__ import annotations

import json
import os
import socket
from datetime import datetime

import pytest
from django.db import transaction
from django.utils import timezone

from conftest import skip_or_fail
from convive.devices.actions import check_create_panic_button
from convive.devices.wire import canonical_bytes, sign
from convive.incidents.models import Priority
from convive.incidents.tests.factories import IncidentTypeFactory
from convive.integrations.mqtt import BrokerAddress, parse_broker_url

KENNEDY_POINT = (-74.15, 4.60)  # lon, lat: inside Kennedy and Timiza
OUTSIDE_POINT = (-73.50, 4.00)


@pytest.fixture
def panic_type(db):
    return IncidentTypeFactory(
        code="boton-panico",
        name_es="Botón de pánico",
        name_en="Panic button",
        default_priority=Priority.P1,
    )


class Button:
    """A registered panic button and the key it signs with."""

    def __init__(self, device, secret: str):
        self.device = device
        self.secret = secret
        self.code = device.code

    def body(self, counter: int, *, sent_at: datetime | None = None, **extra) -> bytes:
        """The webhook body of press number ``counter``."""
        sent_at = sent_at or timezone.now()
        fields = {"device": self.code, "counter": counter, "sent_at": sent_at.isoformat(), **extra}
        return json.dumps(fields).encode()

    def header(self, body: bytes) -> str:
        return "sha256=" + sign(self.secret, body)

    def mqtt_payload(self, counter: int, *, sent_at: datetime | None = None, **extra) -> bytes:
        fields = json.loads(self.body(counter, sent_at=sent_at, **extra))
        fields["signature"] = sign(self.secret, canonical_bytes(fields))
        return json.dumps(fields, indent=1).encode()  # any spacing: the signature is canonical


@pytest.fixture
def button(world, panic_type):
    with transaction.atomic():
        device, secret = check_create_panic_button(
            None,
            city=world.city,
            code="TOTEM-0001",
            name="Parque Timiza",
            lon=KENNEDY_POINT[0],
            lat=KENNEDY_POINT[1],
            address="Calle 40 sur # 72-10",
            institution=world.police,
        )
    return Button(device, secret)


@pytest.fixture
def mqtt_broker() -> BrokerAddress:
    broker = parse_broker_url(os.environ.get("MQTT_TEST_BROKER", "mqtt://127.0.0.1:1883"))
    try:
        socket.create_connection((broker.host, broker.port), timeout=2).close()
    except OSError as exc:
        skip_or_fail(f"needs an MQTT broker at {broker.host}:{broker.port}: {exc}")
    return broker
