"""``/api/v1/audit``: the audit log, read-only, scoped as on the log page."""

import base64
import binascii
from typing import Any

from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router

from convive.accounts.permissions import Action, api_permission
from convive.core.access import access_audit_event_by_id
from convive.core.errors import ActionError
from convive.core.models import AuditEvent
from convive.core.queries import list_audit_events_for
from convive.core.schemas import AuditEventFilters, AuditEventPublic, AuditEventsPublic

router = Router(tags=["audit"])

_CURSOR_PREFIX = "before:"


def encode_cursor(seq: int) -> str:
    """An opaque cursor for the entries older than ``seq`` (stable while entries are appended)."""
    return base64.urlsafe_b64encode(f"{_CURSOR_PREFIX}{seq}".encode()).decode().rstrip("=")


def decode_cursor(cursor: str) -> int:
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4)).decode()
        if not raw.startswith(_CURSOR_PREFIX):
            raise ValueError(raw)
        return int(raw.removeprefix(_CURSOR_PREFIX))
    except (binascii.Error, UnicodeDecodeError, ValueError):
        raise ActionError(_("The cursor is not valid."), field="cursor") from None


@router.get("/events", response=AuditEventsPublic, **api_permission(Action.AUDIT_VIEW))
def list_events(request: HttpRequest, params: Query[AuditEventFilters]) -> dict[str, Any]:
    """Entries of the audit log, newest first: everything for platform administrators, their
    institutions' entries for institution administrators."""
    events = list_audit_events_for(request.user, params.to_filters())
    count = events.count()
    if params.cursor:
        events = events.filter(seq__lt=decode_cursor(params.cursor))
    page = list(events[: params.limit + 1])
    more = len(page) > params.limit
    page = page[: params.limit]
    next_cursor = encode_cursor(page[-1].seq) if more else None
    return {"data": page, "count": count, "next_cursor": next_cursor}


@router.get("/events/{event_id}", response=AuditEventPublic, **api_permission(Action.AUDIT_VIEW))
def get_event(request: HttpRequest, event_id: int) -> AuditEvent:
    """One entry of the log, if it is in the caller's part of it (404 otherwise)."""
    return access_audit_event_by_id(request.user, event_id)
