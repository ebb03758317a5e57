"""``publish_on_commit``: send a console event once, and only once the change is committed.

Payloads are frozen dataclasses declared in each app's ``events.py``; their ``type`` becomes the
Channels handler name (``incident.created`` → ``incident_created``).
"""

from dataclasses import asdict
from typing import Any, Protocol

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


class Event(Protocol):
    type: str


def event_message(event: Any) -> dict[str, Any]:
    return {"type": event.type.replace(".", "_"), "event": asdict(event)}


def publish_on_commit(group: str, event: Any) -> None:
    """Queue ``event`` for ``group``; it is sent after the surrounding transaction commits."""
    message = event_message(event)

    def send() -> None:
        layer = get_channel_layer()
        if layer is not None:
            async_to_sync(layer.group_send)(group, message)

    transaction.on_commit(send)
