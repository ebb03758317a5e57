"""MQTT: street panic buttons and unit positions (AVL) arrive through a broker (Mosquitto).

Topic layout (``docs/integrations.md``), under ``MQTT_TOPIC_PREFIX`` (default ``convive``):

- ``<prefix>/<city-slug>/panic/<device-code>``: a signed panic press (``convive.devices.wire``);
- ``<prefix>/<city-slug>/units/<unit-id>/position``: one position fix of a unit.

``handlers.handle_message`` turns one message into an action; ``listener.Listener`` is the
paho-mqtt client that ``convive mqtt_listen`` runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from urllib.parse import unquote, urlsplit

from django.core.exceptions import ImproperlyConfigured


@dataclass(frozen=True)
class BrokerAddress:
    host: str
    port: int
    username: str | None
    password: str | None
    tls: bool


def parse_broker_url(url: str) -> BrokerAddress:
    """``mqtt://[user:password@]host[:port]`` (1883) or ``mqtts://...`` (TLS, 8883)."""
    parts = urlsplit(url)
    if parts.scheme not in {"mqtt", "mqtts"} or not parts.hostname:
        raise ImproperlyConfigured(f"MQTT_URL must be mqtt://host[:port] or mqtts://, not {url!r}")
    tls = parts.scheme == "mqtts"
    return BrokerAddress(
        host=parts.hostname,
        port=parts.port or (8883 if tls else 1883),
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password else None,
        tls=tls,
    )


def subscriptions(prefix: str) -> list[str]:
    """The topic filters the listener subscribes to, every city at once."""
    return [f"{prefix}/+/panic/+", f"{prefix}/+/units/+/position"]


def panic_topic(prefix: str, city_slug: str, device_code: str) -> str:
    return f"{prefix}/{city_slug}/panic/{device_code}"


def position_topic(prefix: str, city_slug: str, unit_id: int) -> str:
    return f"{prefix}/{city_slug}/units/{unit_id}/position"
