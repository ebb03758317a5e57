"""``publish_on_commit``: send a console event once, and only once the change is committed.

Payloads are frozen dataclasses declared in each app's ``events.py``; their ``type`` becomes the
Channels handler name (``incident.created`` → ``incident_created``).
"""

import asyncio
import threading
from dataclasses import asdict
from typing import Any, Protocol

from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction


class Event(Protocol):
    type: str


def event_message(event: Any) -> dict[str, Any]:
    return {"type": event.type.replace(".", "_"), "event": asdict(event)}


def _send(group: str, message: dict[str, Any]) -> None:
    layer = get_channel_layer()
    if layer is not None:
        async_to_sync(layer.group_send)(group, message)


def publish_now(group: str, event: Any) -> None:
    """Send ``event`` to ``group`` at once (from an on-commit hook: the change is committed)."""
    message = event_message(event)
    try:
        asyncio.get_running_loop()
    except RuntimeError:  # the usual case: a sync view, command or worker thread
        _send(group, message)
        return
    # This thread runs an event loop (sync code called from async code, as Playwright's sync API
    # does in the browser tests): async_to_sync may not block it, so a short-lived thread sends.
    worker = threading.Thread(target=_send, args=(group, message))
    worker.start()
    worker.join()


def publish_on_commit(group: str, event: Any) -> None:
    """Queue ``event`` for ``group``; it is sent after the surrounding transaction commits."""
    transaction.on_commit(lambda: publish_now(group, event))
