"""Reads of the audit log: filtering the part of it a person may read."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from datetime import date, datetime, time, timedelta
from typing import Any

from django.db.models import QuerySet
from django.utils import timezone

from convive.accounts.permissions import Action
from convive.core.access import access_audit_events, audit_scope_for
from convive.core.models import AuditEvent, AuditHead


@dataclass(frozen=True)
class AuditFilters:
    """What the log page, its CSV export and the API filter on; empty values filter nothing.

    Dates are whole days in the current time zone, both ends included.
    """

    tag: str = ""
    actor: str = ""
    institution_id: int | None = None
    subject_type: str = ""
    subject_id: str = ""
    date_from: date | None = None
    date_to: date | None = None

    def as_data(self) -> dict[str, Any]:
        """The filters that are set, JSON-ready: what an export records."""
        return {
            name: value.isoformat() if isinstance(value, date) else value
            for name, value in asdict(self).items()
            if value not in ("", None)
        }


def _day_start(day: date) -> datetime:
    return timezone.make_aware(datetime.combine(day, time.min))


def filter_audit_events(events: QuerySet[AuditEvent], filters: AuditFilters) -> QuerySet:
    if filters.tag:
        events = events.filter(tag=filters.tag)
    if filters.actor:
        events = events.filter(actor_username__iexact=filters.actor.strip())
    if filters.institution_id is not None:
        events = events.filter(institution_id=filters.institution_id)
    if filters.subject_type:
        events = events.filter(subject_type=filters.subject_type.strip().lower())
    if filters.subject_id:
        events = events.filter(subject_id=filters.subject_id.strip())
    if filters.date_from is not None:
        events = events.filter(created_at__gte=_day_start(filters.date_from))
    if filters.date_to is not None:
        events = events.filter(created_at__lt=_day_start(filters.date_to + timedelta(days=1)))
    return events


def list_audit_events_for(
    user: Any, filters: AuditFilters, *, action: Action = Action.AUDIT_VIEW
) -> QuerySet[AuditEvent]:
    """The entries ``user`` may read that match ``filters``, newest first."""
    events = access_audit_events(user, action=action)
    return filter_audit_events(events, filters).order_by("-seq")


def last_audit_seq() -> int:
    """The sequence number of the newest entry (0 for an empty log)."""
    return AuditHead.objects.filter(pk=1).values_list("last_seq", flat=True).first() or 0


def audit_institution_choices(user: Any) -> list[tuple[int, str]]:
    """The institutions ``user`` may filter the log by, as (id, name) pairs."""
    scope = audit_scope_for(user)
    if scope.everything:
        # Read through the model, not institutions' queries: core must not import another app
        # at import time, and this is the one place the audit log needs a list of them.
        from convive.institutions.models import Institution

        institutions = Institution.objects.select_related("city").order_by("city__name", "name")
        return [(i.pk, f"{i.name} ({i.city.name})") for i in institutions]
    names = {
        m.institution_id: m.institution.name
        for m in user.active_memberships
        if m.institution_id in scope.institution_ids
    }
    return sorted(names.items(), key=lambda item: item[1])
