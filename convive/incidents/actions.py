"""The only writers of incidents: intake (call, SOS, promoted report), triage, hand-off, closure.

Every action runs inside the caller's transaction, writes the timeline (``IncidentEvent``) and the
audit log, and bumps ``Incident.version``. Actions that change an incident take the
``expected_version`` the person saw: the write is a conditional ``UPDATE ... WHERE version = %s``,
so of two people acting on the same version exactly one wins and the other gets
``VersionConflictError`` (HTTP 409 with the current state), on PostgreSQL and SQLite alike, with or
without a row lock. Everything is checked before anything is written.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

from django.db import connection
from django.db.models import F, Q
from django.utils import timezone
from django.utils.translation import gettext as _

from convive.accounts.models import User
from convive.core.audit import record_audit_event
from convive.core.errors import ActionError
from convive.core.geo import check_lon_lat, h3_cell
from convive.core.tags import AuditTag
from convive.incidents.catalogue import INCIDENT_TYPES, TypeSpec
from convive.incidents.events import publish_incident_on_commit
from convive.incidents.models import (
    Incident,
    IncidentEvent,
    IncidentSource,
    IncidentType,
    Priority,
)
from convive.institutions.models import Institution
from convive.justice.models import JusticeService
from convive.reports.models import Report
from convive.territories.models import City, Layer, Territory
from convive.territories.queries import locate

SOS_TYPE_CODE = "sos"  # the type an SOS becomes when nobody chose another
MAX_SUMMARY = 300
MAX_TEXT = 4000
MAX_ANSWER = 500
# A call-taker's browser clock may run a little ahead of the server's.
CLOCK_SKEW = timedelta(seconds=5)

Kind = IncidentEvent.Kind
Status = Incident.Status


# --- Conflicts --------------------------------------------------------------------------------


@dataclass(frozen=True)
class IncidentState:
    """What a refused writer is told about the incident as it is now (the 409's body)."""

    id: int
    version: int
    status: str
    priority: int
    institution_id: int | None
    merged_into_id: int | None
    updated_at: str

    @classmethod
    def of(cls, incident: Incident) -> IncidentState:
        return cls(
            id=incident.pk,
            version=incident.version,
            status=incident.status,
            priority=incident.priority,
            institution_id=incident.institution_id,
            merged_into_id=incident.merged_into_id,
            updated_at=incident.updated_at.isoformat(),
        )


class VersionConflictError(ActionError):
    """Someone changed the incident after the person loaded it: status 409, ``current`` state."""

    def __init__(self, incident: Incident):
        super().__init__(
            _(
                "Someone else changed incident %(reference)s meanwhile (it is now at version "
                "%(version)d, status “%(status)s”). Look at it again before acting."
            )
            % {
                "reference": incident.reference,
                "version": incident.version,
                "status": incident.get_status_display(),
            },
            status=409,
            field="expected_version",
        )
        self.current = IncidentState.of(incident)


def _check_version(incident: Incident, expected_version: int) -> None:
    """Refuse at once when the incident in hand is not the version the person saw."""
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise ActionError(_("Send the version of the incident you saw."), field="expected_version")
    if incident.version != expected_version:
        raise VersionConflictError(incident)


def _write(incident: Incident, *, expected_version: int | None, **fields: Any) -> None:
    """Save ``fields`` and bump the version, only if the stored version is still the expected one.

    ``expected_version=None``: no check (a note or a referral cannot be invalidated by another
    change), but the version is bumped all the same so that every console sees the change.
    """
    fields["updated_at"] = timezone.now()
    rows = Incident.objects.filter(pk=incident.pk)
    if expected_version is not None:
        rows = rows.filter(version=expected_version)
    if not rows.update(version=F("version") + 1, **fields):
        incident.refresh_from_db()
        raise VersionConflictError(incident)
    for name, value in fields.items():
        setattr(incident, name, value)
    if expected_version is None:
        stored = Incident.objects.filter(pk=incident.pk).values_list("version", flat=True)
        incident.version = stored.first()
    else:
        incident.version = expected_version + 1


def _event(
    actor: User | None,
    incident: Incident,
    kind: str,
    *,
    at: datetime | None = None,
    body: str = "",
    institution: Institution | None = None,
    data: dict[str, Any] | None = None,
) -> IncidentEvent:
    at = at or timezone.now()
    event = IncidentEvent.objects.create(
        incident=incident,
        kind=kind,
        at=at,
        actor=actor if actor is not None and actor.is_authenticated else None,
        institution=institution if institution is not None else incident.institution,
        body=body,
        data=data or {},
    )
    do_stamp_first_time(incident, kind=kind, at=at)
    publish_incident_on_commit(incident.pk, kind)  # consoles see it once it is committed
    return event


def do_stamp_first_time(incident: Incident, *, kind: str, at: datetime) -> None:
    """An event of ``kind`` at ``at`` was written for ``incident``: its first time of that kind
    (``Incident.FIRST_TIME_FIELDS``; other kinds have none) becomes the earlier of the stored one
    and ``at``, in the database and on ``incident``.

    A conditional ``UPDATE`` that leaves ``version`` alone: the stamps are the timeline's, kept
    for the response-time figures, not a change a console acts on. ``_event`` calls it for every
    event; whatever writes ``IncidentEvent`` rows otherwise must call it too, or run
    ``do_rebuild_incident_times`` afterwards.
    """
    name = Incident.FIRST_TIME_FIELDS.get(kind)
    if name is None:
        return
    earlier = Q(**{f"{name}__isnull": True}) | Q(**{f"{name}__gt": at})
    if Incident.objects.filter(earlier, pk=incident.pk).update(**{name: at}):
        setattr(incident, name, at)
        return
    known = getattr(incident, name)
    if known is None or known > at:  # the stored one is earlier than what is in hand
        incident.refresh_from_db(fields=[name])


def _first_times_sql() -> tuple[str, list[str]]:
    """``UPDATE`` every incident whose stamps differ from the earliest time of each kind among
    its events (NULL without one); SQLite (row values, 3.15 or later) and PostgreSQL alike."""
    incident, event = Incident._meta, IncidentEvent._meta
    quote = connection.ops.quote_name
    table, pk = quote(incident.db_table), quote(incident.pk.column)
    events, of = quote(event.db_table), quote(event.get_field("incident").column)
    kind, at = quote(event.get_field("kind").column), quote(event.get_field("at").column)
    names = [quote(incident.get_field(name).column) for name in Incident.FIRST_TIME_FIELDS.values()]
    firsts = [f"MIN(CASE WHEN e.{kind} = %s THEN e.{at} END)" for _name in names]
    per_incident = ", ".join(
        f"{first} AS {name}" for first, name in zip(firsts, names, strict=True)
    )
    # NULL-safe "differs" that is never NULL itself, on both databases.
    same = " AND ".join(
        f"COALESCE(i.{name} = s.{name}, i.{name} IS NULL AND s.{name} IS NULL)" for name in names
    )
    sql = (
        f"UPDATE {table} SET ({', '.join(names)}) = "  # noqa: S608 - quoted names, parameters
        f"(SELECT {', '.join(firsts)} FROM {events} e WHERE e.{of} = {table}.{pk}) "
        f"WHERE {pk} IN (SELECT i.{pk} FROM {table} i LEFT JOIN "
        f"(SELECT e.{of} AS incident_id, {per_incident} FROM {events} e GROUP BY e.{of}) s "
        f"ON s.incident_id = i.{pk} WHERE NOT ({same}))"
    )
    kinds = list(Incident.FIRST_TIME_FIELDS)
    return sql, kinds + kinds


def do_rebuild_incident_times() -> int:
    """Recompute every incident's first times from its own events (``do_stamp_first_time`` keeps
    them as events are written; this repairs them after an import or a fix by hand). Writes only
    the incidents whose stamps differ, ``version`` left alone; returns how many. The caller holds
    the transaction (``convive rebuild_incident_times``)."""
    sql, params = _first_times_sql()
    with connection.cursor() as cursor:
        cursor.execute(sql, params)
        corrected = cursor.rowcount
    record_audit_event(None, AuditTag.INCIDENT_TIMES_REBUILT, data={"corrected": corrected})
    return corrected


def _audit(
    actor: User | None,
    tag: AuditTag,
    incident: Incident,
    *,
    reason: str = "",
    data: dict[str, Any] | None = None,
) -> None:
    record_audit_event(
        actor,
        tag,
        subject=incident,
        reason=reason,
        data={"version": incident.version, **(data or {})},
    )


def _open(incident: Incident) -> None:
    if not incident.is_open:
        raise ActionError(
            _("Incident %(reference)s is closed; reopen it first.")
            % {"reference": incident.reference},
            status=409,
        )


def _text(value: str, *, field: str, required: str = "", limit: int = MAX_TEXT) -> str:
    """``value`` stripped; ``required`` is the message when it must not be empty."""
    value = (value or "").strip()
    if required and not value:
        raise ActionError(required, field=field)
    if len(value) > limit:
        raise ActionError(
            _("At most %(limit)d characters.") % {"limit": limit},
            field=field,
        )
    return value


# --- Intake -------------------------------------------------------------------------------------


def _check_type(code: str) -> IncidentType:
    found = IncidentType.objects.filter(code=(code or "").strip(), active=True).first()
    if found is None:
        raise ActionError(_("Unknown incident type “%(code)s”.") % {"code": code}, field="type")
    return found


def _check_priority(priority: int | None, default: int) -> int:
    if priority is None:
        return default
    if isinstance(priority, bool) or priority not in Priority.values:
        raise ActionError(_("The priority goes from P1 to P4."), field="priority")
    return int(priority)


@dataclass(frozen=True)
class Place:
    lon: float | None
    lat: float | None
    address: str
    locality: Territory | None
    neighbourhood: Territory | None

    def fields(self) -> dict[str, Any]:
        return {
            "lon": self.lon,
            "lat": self.lat,
            "h3_cell": h3_cell(self.lon, self.lat) if self.lon is not None else "",
            "address": self.address,
            "locality": self.locality,
            "neighbourhood": self.neighbourhood,
        }


def _check_place(city: City, lon: float | None, lat: float | None, address: str) -> Place:
    """The point must fall in a territory of ``city``; without a point, an address is needed."""
    address = _text(address, field="address", limit=300)
    if lon is None and lat is None:
        if not address:
            raise ActionError(
                _("Say where it happens: a point on the map or an address."), field="location"
            )
        return Place(None, None, address, None, None)
    if lon is None or lat is None:
        missing = "lat" if lat is None else "lon"
        raise ActionError(_("A point needs both latitude and longitude."), field=missing)
    lon, lat = check_lon_lat(lon, lat)
    territories = locate(city, lon=lon, lat=lat)
    if not territories:
        raise ActionError(
            _("The point is outside %(city)s.") % {"city": city.name}, field="location"
        )
    locality = next((t for t in territories if t.layer.kind == Layer.Kind.LOCALITY), None)
    hood = next((t for t in territories if t.layer.kind == Layer.Kind.NEIGHBOURHOOD), None)
    return Place(lon, lat, address, locality, hood)


def _check_protocol_answers(kind: IncidentType, answers: Mapping[str, Any] | None) -> dict:
    """Answers to the type's protocol questions, by code; unanswered questions are left out."""
    codes = {q["code"] for q in kind.protocol}
    clean: dict[str, str] = {}
    for code, answer in (answers or {}).items():
        if code not in codes:
            raise ActionError(
                _("“%(code)s” is not a question of this incident type.") % {"code": code},
                field="protocol_answers",
            )
        text = _text(str(answer or ""), field="protocol_answers", limit=MAX_ANSWER)
        if text:
            clean[code] = text
    return clean


def _check_call_times(received_at: datetime, answered_at: datetime) -> None:
    for name, value in (("received_at", received_at), ("answered_at", answered_at)):
        if not isinstance(value, datetime) or timezone.is_naive(value):
            raise ActionError(_("Give the time with its time zone."), field=name)
    if answered_at < received_at:
        raise ActionError(
            _("The call cannot be answered before it was received."), field="answered_at"
        )
    if answered_at > timezone.now() + CLOCK_SKEW:
        raise ActionError(_("The call cannot be answered in the future."), field="answered_at")


def _default_institution(actor: User, city: City) -> Institution | None:
    institution = actor.sole_institution()
    return institution if institution is not None and institution.city_id == city.pk else None


def check_create_incident_from_call(
    actor: User,
    *,
    city: City,
    type_code: str,
    lon: float | None,
    lat: float | None,
    address: str = "",
    summary: str = "",
    caller_name: str = "",
    caller_phone: str = "",
    received_at: datetime,
    answered_at: datetime,
    protocol_answers: Mapping[str, Any] | None = None,
    priority: int | None = None,
    institution: Institution | None = None,
) -> Incident:
    """A call-taker opens an incident from a call (timeline: received, answered, created).

    ``institution``: who handles it; by default the call-taker's own (when they have one in
    ``city``). Only what the call-taker typed about the caller is kept.
    """
    kind = _check_type(type_code)
    place = _check_place(city, lon, lat, address)
    _check_call_times(received_at, answered_at)
    answers = _check_protocol_answers(kind, protocol_answers)
    caller = {
        "caller_name": _text(caller_name, field="caller_name", limit=150),
        "caller_phone": _text(caller_phone, field="caller_phone", limit=32),
    }
    summary = _text(summary, field="summary", limit=MAX_SUMMARY)
    incident = Incident.objects.create(
        city=city,
        type=kind,
        priority=_check_priority(priority, kind.default_priority),
        summary=summary,
        protocol_answers=answers,
        institution=institution or _default_institution(actor, city),
        created_by=actor,
        **place.fields(),
    )
    source = IncidentSource.objects.create(
        incident=incident,
        kind=IncidentSource.Kind.CALL,
        **caller,
        received_at=received_at,
        answered_at=answered_at,
    )
    _event(actor, incident, Kind.CALL_RECEIVED, at=received_at, data={"source": source.pk})
    _event(actor, incident, Kind.CALL_ANSWERED, at=answered_at, data={"source": source.pk})
    _event(actor, incident, Kind.CREATED, data={"source": source.pk, "type": kind.code})
    _audit(actor, AuditTag.INCIDENT_CREATED, incident, data={"source": source.kind})
    return incident


DEVICE_SOURCES = frozenset(
    {IncidentSource.Kind.PANIC_BUTTON, IncidentSource.Kind.CAMERA, IncidentSource.Kind.PLATE_READER}
)


def check_create_incident_from_device(
    *,
    city: City,
    source_kind: str,
    type_code: str,
    lon: float | None,
    lat: float | None,
    address: str = "",
    summary: str = "",
    received_at: datetime | None = None,
    data: Mapping[str, Any] | None = None,
    priority: int | None = None,
    institution: Institution | None = None,
) -> Incident:
    """A device (a street panic button, a camera's or a plate reader's alert) opens an incident.

    The caller has authenticated the device (its signature) and refused replays; ``data`` is what
    the device sent that is worth keeping (its id, the press counter), never a secret.
    """
    if source_kind not in DEVICE_SOURCES:
        raise ActionError(_("Unknown kind of device."), field="source_kind")
    kind = _check_type(type_code)
    place = _check_place(city, lon, lat, address)
    now = timezone.now()
    received_at = received_at or now
    if received_at > now + CLOCK_SKEW:
        raise ActionError(_("The time of the alert is in the future."), field="received_at")
    incident = Incident.objects.create(
        city=city,
        type=kind,
        priority=_check_priority(priority, kind.default_priority),
        summary=_text(summary, field="summary", limit=MAX_SUMMARY),
        institution=institution,
        **place.fields(),
    )
    source = IncidentSource.objects.create(
        incident=incident,
        kind=source_kind,
        received_at=received_at,
        data=dict(data or {}),
    )
    _event(None, incident, Kind.CREATED, at=received_at, data={"source": source.pk})
    _audit(None, AuditTag.INCIDENT_CREATED, incident, data={"source": source.kind})
    return incident


def check_create_incident_from_report(
    actor: User | None,
    report: Report,
    *,
    type_code: str | None = None,
    priority: int | None = None,
) -> tuple[Incident, bool]:
    """An SOS (``actor`` None: the console's automatic intake) or a report promoted by staff.

    Returns ``(incident, created)``: a report becomes at most one incident, so a second call
    (another console, a retry) answers with the first. The report stays a source, and its
    citizen follows the incident (``queries.incident_status_for_report``).
    """
    locked = Report.objects.select_for_update().filter(pk=report.pk).first()
    if locked is None:
        raise ActionError(_("The report no longer exists."), status=404)
    existing = IncidentSource.objects.filter(report=locked).select_related("incident").first()
    if existing is not None:
        return existing.incident, False
    urgent = locked.is_urgent or locked.status == Report.Status.SOS
    if actor is None and not urgent:
        raise ActionError(_("Only an SOS becomes an incident by itself."), field="report")
    if not urgent and not type_code:
        raise ActionError(_("Choose the incident type."), field="type")
    if locked.is_hidden:
        raise ActionError(_("A hidden report cannot become an incident."), status=409)
    kind = _check_type(type_code or SOS_TYPE_CODE)
    incident = Incident.objects.create(
        city=locked.city,
        type=kind,
        priority=_check_priority(priority, Priority.P1 if urgent else kind.default_priority),
        lon=locked.lon,
        lat=locked.lat,
        h3_cell=locked.h3_cell,
        address=locked.address,
        locality=locked.locality,
        neighbourhood=locked.neighbourhood,
        institution=locked.institution,
        summary=locked.description[:MAX_SUMMARY],
        description=locked.description,
        created_by=actor,
    )
    source = IncidentSource.objects.create(
        incident=incident,
        kind=IncidentSource.Kind.SOS if urgent else IncidentSource.Kind.APP_REPORT,
        report=locked,
        received_at=locked.created_at,
        data={"channel": locked.channel},
    )
    _event(actor, incident, Kind.CREATED, data={"source": source.pk, "report": locked.pk})
    _audit(actor, AuditTag.INCIDENT_CREATED, incident, data={"source": source.kind})
    return incident, True


def check_update_incident(
    actor: User,
    incident: Incident,
    *,
    expected_version: int,
    summary: str | None = None,
    description: str | None = None,
    address: str | None = None,
    lon: float | None = None,
    lat: float | None = None,
) -> Incident:
    """Correct what was taken down; a new point is located again (it must stay in the city)."""
    _check_version(incident, expected_version)
    _open(incident)
    fields: dict[str, Any] = {}
    if summary is not None:
        fields["summary"] = _text(summary, field="summary", limit=MAX_SUMMARY)
    if description is not None:
        fields["description"] = _text(description, field="description")
    if lon is not None or lat is not None or address is not None:
        new_address = incident.address if address is None else address
        has_point = lon is not None or lat is not None
        point = (lon, lat) if has_point else (incident.lon, incident.lat)
        fields.update(_check_place(incident.city, *point, new_address).fields())
    changed = {k: v for k, v in fields.items() if getattr(incident, k) != v}
    if not changed:
        raise ActionError(_("Nothing changed."), status=409)
    _write(incident, expected_version=expected_version, **changed)
    _event(actor, incident, Kind.UPDATED, data={"fields": sorted(changed)})
    _audit(actor, AuditTag.INCIDENT_UPDATED, incident, data={"fields": sorted(changed)})
    return incident


# --- Linking and merging ------------------------------------------------------------------------


def _versions_of(expected_versions: Mapping[int, int], *incidents: Incident) -> dict[int, int]:
    found = {}
    for incident in incidents:
        if incident.pk not in expected_versions:
            raise ActionError(
                _("Send the version you saw of incident %(reference)s.")
                % {"reference": incident.reference},
                field="expected_versions",
            )
        _check_version(incident, expected_versions[incident.pk])
        found[incident.pk] = expected_versions[incident.pk]
    return found


def _check_pair(first: Incident, second: Incident) -> None:
    if first.pk == second.pk:
        raise ActionError(_("Choose two different incidents."), field="incident")
    if first.city_id != second.city_id:
        raise ActionError(_("Both incidents must be in the same city."), field="incident")
    _open(first)
    _open(second)


def check_link_incidents(
    actor: User,
    incident: Incident,
    other: Incident,
    *,
    reason: str,
    expected_versions: Mapping[int, int],
) -> None:
    """Two incidents about related events (a fight and the injured it left): both stay open."""
    versions = _versions_of(expected_versions, incident, other)
    _check_pair(incident, other)
    reason = _text(reason, field="reason", required=_("Say why they are linked."))
    if incident.linked.filter(pk=other.pk).exists():
        raise ActionError(_("These incidents are already linked."), status=409)
    for one in sorted((incident, other), key=lambda i: i.pk):  # lock order: no deadlock
        _write(one, expected_version=versions[one.pk])
    incident.linked.add(other)
    for one, two in ((incident, other), (other, incident)):
        _event(actor, one, Kind.LINKED, body=reason, data={"incident": two.pk})
        _audit(actor, AuditTag.INCIDENT_LINKED, one, reason=reason, data={"incident": two.pk})


def check_merge_incident(
    actor: User,
    duplicate: Incident,
    into: Incident,
    *,
    reason: str,
    expected_versions: Mapping[int, int],
) -> Incident:
    """``duplicate`` is the same event as ``into``: its sources move to ``into``, it is closed
    with ``merged_into`` set, and both timelines get a 'merged' step. Nothing is deleted: the
    duplicate keeps its own timeline, and ``into`` takes the more urgent of the two priorities.
    """
    versions = _versions_of(expected_versions, duplicate, into)
    _check_pair(duplicate, into)
    reason = _text(reason, field="reason", required=_("Say why it is a duplicate."))
    now = timezone.now()
    moved = list(duplicate.sources.values_list("pk", flat=True))
    previous_priority = into.priority
    priority = min(duplicate.priority, into.priority)
    for one in sorted((duplicate, into), key=lambda i: i.pk):  # lock order: no deadlock
        if one.pk == duplicate.pk:
            _write(
                one,
                expected_version=versions[one.pk],
                status=Status.CLOSED,
                merged_into=into,
                closed_at=now,
                outcome=reason,
            )
        else:
            _write(one, expected_version=versions[one.pk], priority=priority)
    IncidentSource.objects.filter(pk__in=moved).update(incident=into)
    data = {"duplicate": duplicate.pk, "into": into.pk, "sources": moved}
    _event(actor, duplicate, Kind.MERGED, at=now, body=reason, data=data)
    _event(actor, into, Kind.MERGED, at=now, body=reason, data=data)
    if priority != previous_priority:
        change = {"from": previous_priority, "to": priority, "merged": duplicate.pk}
        _event(actor, into, Kind.PRIORITY_CHANGED, at=now, body=reason, data=change)
    _audit(actor, AuditTag.INCIDENT_MERGED, duplicate, reason=reason, data=data)
    _audit(actor, AuditTag.INCIDENT_MERGED, into, reason=reason, data=data)
    return into


# --- Triage and field steps ---------------------------------------------------------------------


def check_change_priority(
    actor: User, incident: Incident, *, priority: int, reason: str, expected_version: int
) -> Incident:
    _check_version(incident, expected_version)
    _open(incident)
    if isinstance(priority, bool) or priority not in Priority.values:
        raise ActionError(_("The priority goes from P1 to P4."), field="priority")
    if priority == incident.priority:
        raise ActionError(_("The incident already has this priority."), status=409)
    reason = _text(reason, field="reason", required=_("Say why the priority changes."))
    previous = incident.priority
    _write(incident, expected_version=expected_version, priority=priority)
    change = {"from": previous, "to": priority}
    _event(actor, incident, Kind.PRIORITY_CHANGED, body=reason, data=change)
    _audit(actor, AuditTag.INCIDENT_PRIORITY_CHANGED, incident, reason=reason, data=change)
    return incident


STEP_EVENTS = {
    Status.DISPATCHED: Kind.DISPATCHED,
    Status.EN_ROUTE: Kind.EN_ROUTE,
    Status.ON_SCENE: Kind.ON_SCENE,
    Status.CLEARED: Kind.CLEARED,
}


def check_advance_status(
    actor: User | None,
    incident: Incident,
    *,
    status: str,
    expected_version: int,
    body: str = "",
    data: dict[str, Any] | None = None,
    institution: Institution | None = None,
) -> Incident:
    """A field step (dispatched, en route, on scene, cleared), for the dispatch code to call.

    The status only moves forward along ``Incident.FIELD_STEPS`` (steps may be skipped: a unit
    that was already there goes straight to on scene); going back means reopening. ``data`` is
    kept in the timeline (the unit, its ETA...). ``actor`` None: a device (a unit's terminal).
    """
    _check_version(incident, expected_version)
    _open(incident)
    if status not in STEP_EVENTS:
        raise ActionError(_("Choose a valid step."), field="status")
    steps = Incident.FIELD_STEPS
    if steps.index(status) <= steps.index(incident.status):
        raise ActionError(
            _("The incident is already at “%(status)s”.")
            % {"status": incident.get_status_display()},
            status=409,
            field="status",
        )
    body = _text(body, field="body")
    previous = incident.status
    _write(incident, expected_version=expected_version, status=status)
    _event(actor, incident, STEP_EVENTS[status], body=body, institution=institution, data=data)
    change = {"from": previous, "to": status, **(data or {})}
    _audit(actor, AuditTag.INCIDENT_STATUS_CHANGED, incident, data=change)
    return incident


def check_add_note(
    actor: User, incident: Incident, *, body: str, expected_version: int | None = None
) -> IncidentEvent:
    """An internal note (never shown to a citizen). Notes do not conflict with other changes,
    so ``expected_version`` is optional; the version is bumped all the same."""
    if expected_version is not None:
        _check_version(incident, expected_version)
    body = _text(body, field="body", required=_("Write the note."))
    _write(incident, expected_version=expected_version)
    event = _event(actor, incident, Kind.NOTE, body=body)
    _audit(actor, AuditTag.INCIDENT_NOTE_ADDED, incident, data={"event": event.pk})
    return event


# --- Hand-off, referral, closure ------------------------------------------------------------------


def check_transfer(
    actor: User,
    incident: Incident,
    *,
    to_institution: Institution,
    reason: str,
    expected_version: int,
) -> Incident:
    """Hand the incident to another institution (police → prosecutor, women's care...)."""
    _check_version(incident, expected_version)
    _open(incident)
    reason = _text(reason, field="reason", required=_("Say why it goes to another institution."))
    if to_institution.pk == incident.institution_id:
        raise ActionError(_("The incident is already there."), status=409, field="to_institution")
    if to_institution.city_id != incident.city_id or not to_institution.active:
        raise ActionError(
            _("Choose an active institution of the same city."), field="to_institution"
        )
    previous = incident.institution
    _write(incident, expected_version=expected_version, institution=to_institution)
    change = {"from": previous.pk if previous else None, "to": to_institution.pk}
    _event(actor, incident, Kind.TRANSFERRED, body=reason, institution=to_institution, data=change)
    _audit(actor, AuditTag.INCIDENT_TRANSFERRED, incident, reason=reason, data=change)
    return incident


def check_record_referral(
    actor: User,
    incident: Incident,
    *,
    service: JusticeService,
    consent_given: bool,
    consent_note: str,
    expected_version: int | None = None,
) -> IncidentEvent:
    """Refer the victim to a support service, only with the victim's recorded consent.

    ``consent_note``: how and when the victim agreed (required), kept in the timeline and the
    audit log with the referral.
    """
    if expected_version is not None:
        _check_version(incident, expected_version)
    if consent_given is not True:
        raise ActionError(
            _("A victim is referred only with their consent: ask them and record it first."),
            field="consent_given",
        )
    note = _text(
        consent_note,
        field="consent_note",
        required=_("Say how the victim gave their consent."),
        limit=1000,
    )
    if service.city_id != incident.city_id:
        raise ActionError(_("Choose a service of the same city."), field="service")
    _write(incident, expected_version=expected_version)
    data = {"service": service.pk, "service_kind": service.kind, "consent": True}
    event = _event(actor, incident, Kind.REFERRED, body=note, data=data)
    _audit(actor, AuditTag.INCIDENT_VICTIM_REFERRED, incident, reason=note, data=data)
    return event


def check_close(
    actor: User, incident: Incident, *, outcome: str, expected_version: int
) -> Incident:
    _check_version(incident, expected_version)
    _open(incident)
    outcome = _text(outcome, field="outcome", required=_("Say how the incident ended."))
    now = timezone.now()
    _write(
        incident,
        expected_version=expected_version,
        status=Status.CLOSED,
        closed_at=now,
        outcome=outcome,
    )
    _release_units(actor, incident, at=now)
    _event(actor, incident, Kind.CLOSED, at=now, body=outcome)
    _audit(actor, AuditTag.INCIDENT_CLOSED, incident, reason=outcome)
    _close_sos_reports(actor, incident, at=now)
    return incident


def _close_sos_reports(actor: User, incident: Incident, *, at: datetime) -> None:
    """The SOS alerts that became this incident close with it, so that their citizens see the
    end and may rate the response (other reports keep the inbox's own handling)."""
    from convive.reports.actions import do_close_sos_with_incident  # reports imports this module

    reports = Report.objects.select_for_update().filter(
        incident_sources__incident=incident, status=Report.Status.SOS
    )
    for report in reports.order_by("pk"):
        do_close_sos_with_incident(actor, report, incident_id=incident.pk, at=at)


def _reopen_sos_reports(actor: User, incident: Incident, *, closed_at: datetime | None) -> None:
    """The SOS alerts that closed with this incident (at its very closing time) open again with
    it. An alert that staff closed otherwise, before or after, keeps the inbox's own handling."""
    from convive.reports.actions import do_reopen_sos_with_incident  # reports imports this module

    if closed_at is None:
        return
    reports = Report.objects.select_for_update().filter(
        incident_sources__incident=incident,
        is_urgent=True,
        status=Report.Status.CLOSED,
        closed_at=closed_at,
    )
    for report in reports.order_by("pk"):
        do_reopen_sos_with_incident(actor, report, incident_id=incident.pk)


def check_reopen(
    actor: User, incident: Incident, *, reason: str, expected_version: int
) -> Incident:
    """A cleared or closed incident starts again as new (it needs units again)."""
    _check_version(incident, expected_version)
    if incident.merged_into_id is not None:
        raise ActionError(
            _("This incident was merged into %(reference)s: work on that one.")
            % {"reference": incident.merged_into.reference},
            status=409,
        )
    if incident.status not in (Status.CLEARED, Status.CLOSED):
        raise ActionError(_("Only a cleared or closed incident can be reopened."), status=409)
    reason = _text(reason, field="reason", required=_("Say why it is reopened."))
    previous, closed_at = incident.status, incident.closed_at
    _write(incident, expected_version=expected_version, status=Status.NEW, closed_at=None)
    _event(actor, incident, Kind.REOPENED, body=reason, data={"from": previous})
    _audit(actor, AuditTag.INCIDENT_REOPENED, incident, reason=reason, data={"from": previous})
    _reopen_sos_reports(actor, incident, closed_at=closed_at)
    return incident


def do_record_incident_view(actor: User, incident: Incident) -> None:
    """Staff opened an incident: who looked at what, as for every sensitive record."""
    record_audit_event(
        actor, AuditTag.INCIDENT_VIEWED, subject=incident, data={"version": incident.version}
    )


# --- The catalogue ----------------------------------------------------------------------------


@dataclass
class InstallCounts:
    """What ``check_install_incident_types`` did."""

    created: int = 0
    updated: int = 0
    unchanged: int = 0


def _type_fields(spec: TypeSpec, order: int) -> dict[str, Any]:
    return {
        "name_es": spec.name_es,
        "name_en": spec.name_en,
        "default_priority": int(spec.priority),
        "protocol": [q.as_json() for q in spec.questions],
        "required_capabilities": [str(c) for c in spec.capabilities],
        "iccs_code": spec.iccs_code,
        "order": order,
    }


def check_install_incident_types(
    actor: User | None, *, catalogue: tuple[TypeSpec, ...] = INCIDENT_TYPES
) -> InstallCounts:
    """Add or update every type of ``catalogue`` by code; delete nothing, and leave ``active``
    as an administrator set it. Safe to run again. ``actor`` None: the command line."""
    from convive.incidents.models import type_errors

    counts = InstallCounts()
    existing = {
        t.code: t for t in IncidentType.objects.filter(code__in=[s.code for s in catalogue])
    }
    for position, spec in enumerate(catalogue, start=1):
        fields = _type_fields(spec, order=position * 10)
        errors = type_errors(
            protocol=fields["protocol"],
            capabilities=fields["required_capabilities"],
            iccs_code=spec.iccs_code,
        )
        if errors:
            raise ActionError(f"{spec.code}: {errors}", field="catalogue")
        found = existing.get(spec.code)
        if found is None:
            IncidentType.objects.create(code=spec.code, **fields)
            counts.created += 1
            continue
        changed = [name for name, value in fields.items() if getattr(found, name) != value]
        for name in changed:
            setattr(found, name, fields[name])
        if changed:
            found.save(update_fields=changed)
            counts.updated += 1
        else:
            counts.unchanged += 1
    if counts.created or counts.updated:
        record_audit_event(actor, AuditTag.INCIDENT_TYPES_INSTALLED, data=vars(counts))
    return counts


# --- Dispatch and the units' field steps ----------------------------------------------------------
# Appended here (imports included) so that the intake and triage code above stays as it was.

from convive.accounts.roles import Role  # noqa: E402
from convive.incidents.models import Assignment  # noqa: E402
from convive.units.actions import (  # noqa: E402
    TRANSITIONS,
    UnitConflictError,
    do_move_unit_for_incident,
)
from convive.units.models import Capability as UnitCapability  # noqa: E402
from convive.units.models import Unit  # noqa: E402
from convive.units.queries import max_position_age_seconds, straight_metres  # noqa: E402


def _distance_at_dispatch(incident: Incident, unit: Unit, now: datetime) -> float | None:
    """Straight-line metres from the unit's fresh position to the incident (None without both):
    with the time to reach the scene, a trip the travel estimates learn from."""
    if incident.lon is None or unit.last_lon is None or unit.last_position_at is None:
        return None
    if (now - unit.last_position_at).total_seconds() > max_position_age_seconds():
        return None  # an old position says nothing about where the unit left from
    return straight_metres(unit.last_lon, unit.last_lat, incident.lon, incident.lat)


UNIT_STEPS = ("en_route", "on_scene", "cleared")
# The roles that move any unit they can reach; a field unit alone moves only the units it crews.
CONSOLE_ROLES = frozenset({Role.CALL_TAKER, Role.DISPATCHER, Role.SUPERVISOR, Role.PLATFORM_ADMIN})


def _check_unit_version(unit: Unit, expected_version: int) -> None:
    if isinstance(expected_version, bool) or not isinstance(expected_version, int):
        raise ActionError(_("Send the version of the unit you saw."), field="expected_unit_version")
    if unit.version != expected_version:
        raise UnitConflictError(unit)


def _check_capabilities_for(incident: Incident, unit: Unit) -> None:
    labels = dict(UnitCapability.choices)
    missing = [c for c in incident.type.required_capabilities if c not in (unit.capabilities or [])]
    if missing:
        raise ActionError(
            _("Unit %(call_sign)s lacks what this incident needs: %(missing)s.")
            % {
                "call_sign": unit.call_sign,
                "missing": ", ".join(str(labels.get(c, c)) for c in missing),
            },
            field="unit",
        )


BUSY_STATUSES = (Unit.Status.DISPATCHED, Unit.Status.EN_ROUTE, Unit.Status.ON_SCENE)


def _check_dispatchable(incident: Incident, unit: Unit, *, reassign: bool) -> Assignment | None:
    """Refuse a dispatch that breaks a rule; with ``reassign``, the unit's current assignment
    (to another incident), which the dispatch takes it from."""
    _open(incident)
    if incident.status == Status.CLEARED:
        raise ActionError(
            _("Incident %(reference)s is cleared; reopen it to send units.")
            % {"reference": incident.reference},
            status=409,
        )
    if unit.institution.city_id != incident.city_id:
        raise ActionError(_("Choose a unit of the incident's city."), field="unit")
    usable = (Unit.Status.AVAILABLE, *BUSY_STATUSES) if reassign else (Unit.Status.AVAILABLE,)
    if not unit.active or unit.status not in usable:
        raise ActionError(
            _("Unit %(call_sign)s is not available (it is “%(status)s”).")
            % {"call_sign": unit.call_sign, "status": unit.get_status_display()},
            status=409,
            field="unit",
        )
    _check_capabilities_for(incident, unit)
    current = Assignment.objects.filter(unit=unit, cleared_at__isnull=True).first()
    if current is not None and current.incident_id == incident.pk:
        raise ActionError(
            _("Unit %(call_sign)s is already assigned to this incident.")
            % {"call_sign": unit.call_sign},
            status=409,
            field="unit",
        )
    if current is not None and not reassign:
        raise ActionError(
            _("Unit %(call_sign)s is still assigned to another incident.")
            % {"call_sign": unit.call_sign},
            status=409,
            field="unit",
        )
    return current


def _release_units(actor: User, incident: Incident, *, at: datetime) -> None:
    """Closing an incident clears the units still on it: available again, load - 1, each step in
    the timeline. A unit changed meanwhile by someone else makes the closing a 409 (nothing is
    written: the caller's transaction rolls back)."""
    open_assignments = (
        Assignment.objects.select_for_update()
        .filter(incident=incident, cleared_at__isnull=True)
        .select_related("unit")
        .order_by("unit_id")  # the same lock order as everywhere: no deadlock
    )
    for assignment in open_assignments:
        unit = assignment.unit
        do_move_unit_for_incident(
            actor,
            unit,
            status=Unit.Status.AVAILABLE,
            load_change=-1,
            expected_version=unit.version,
            incident_id=incident.pk,
        )
        assignment.cleared_at = at
        assignment.save(update_fields=["cleared_at"])
        data = {"unit": unit.pk, "call_sign": unit.call_sign, "assignment": assignment.pk}
        _event(
            actor, incident, Kind.CLEARED, at=at, body=_("Released: incident closed."), data=data
        )


def _take_from(actor: User, assignment: Assignment, *, to: Incident, at: datetime) -> None:
    """Reassignment: the unit leaves its previous incident, which is told in its timeline."""
    assignment.cleared_at = at
    assignment.save(update_fields=["cleared_at"])
    previous = assignment.incident
    data = {"unit": assignment.unit_id, "reassigned_to": to.pk, "assignment": assignment.pk}
    _write(previous, expected_version=None)
    _event(actor, previous, Kind.CLEARED, at=at, body=_("Unit reassigned."), data=data)
    _audit(actor, AuditTag.INCIDENT_UPDATED, previous, data={"step": "reassigned", **data})


def check_dispatch_unit(
    actor: User,
    incident: Incident,
    unit: Unit,
    *,
    expected_incident_version: int,
    expected_unit_version: int,
    reassign: bool = False,
) -> IncidentEvent:
    """Send ``unit`` to ``incident``: an open ``Assignment``, the unit dispatched (load + 1), the
    incident dispatched if it was new, a 'dispatched' step and the audit log.

    Both writes are conditional on the versions the dispatcher saw: VersionConflictError or
    UnitConflictError (409) otherwise. The caller holds one transaction (and, best, the row locks:
    incident first, then unit); a conflict raised after the first write rolls it back with it.
    ``reassign``: the unit may be busy on another incident; it leaves it (its assignment there
    is cleared and that incident's timeline says so), its load unchanged.
    """
    _check_version(incident, expected_incident_version)
    _check_unit_version(unit, expected_unit_version)
    taken = _check_dispatchable(incident, unit, reassign=reassign)
    now = timezone.now()
    data = {"unit": unit.pk, "call_sign": unit.call_sign}
    previous = incident.status
    fields = {"status": Status.DISPATCHED} if previous == Status.NEW else {}
    _write(incident, expected_version=expected_incident_version, **fields)
    do_move_unit_for_incident(
        actor,
        unit,
        status=Unit.Status.DISPATCHED,
        load_change=0 if taken is not None else 1,
        expected_version=expected_unit_version,
        incident_id=incident.pk,
    )
    if taken is not None:
        _take_from(actor, taken, to=incident, at=now)
        data["reassigned_from"] = taken.incident_id
    assignment = Assignment.objects.create(
        incident=incident,
        unit=unit,
        dispatched_by=actor,
        dispatched_at=now,
        distance_m=_distance_at_dispatch(incident, unit, now),
    )
    event = _event(actor, incident, Kind.DISPATCHED, at=now, data=data)
    change = {"from": previous, "to": incident.status, "assignment": assignment.pk, **data}
    _audit(actor, AuditTag.INCIDENT_UNIT_DISPATCHED, incident, data=change)
    return event


def _check_crew(actor: User | None, unit: Unit) -> None:
    """A field-unit account (and nothing more) moves only a unit it crews: 404 otherwise."""
    if actor is None or not actor.is_authenticated:
        return  # a device (the unit's terminal), authenticated by the caller
    if actor.roles() & CONSOLE_ROLES:
        return
    if not unit.crew.filter(pk=actor.pk).exists():
        raise ActionError(_("Unit not found."), status=404, field="unit")


def _open_assignment(incident: Incident, unit: Unit) -> Assignment:
    found = Assignment.objects.filter(incident=incident, unit=unit, cleared_at__isnull=True).first()
    if found is None:
        raise ActionError(
            _("Unit %(call_sign)s is not assigned to incident %(reference)s.")
            % {"call_sign": unit.call_sign, "reference": incident.reference},
            status=409,
            field="unit",
        )
    return found


UNIT_STATUS_FOR_STEP = {
    "en_route": Unit.Status.EN_ROUTE,
    "on_scene": Unit.Status.ON_SCENE,
    "cleared": Unit.Status.AVAILABLE,
}
STAMP_FOR_STEP = {"en_route": "en_route_at", "on_scene": "on_scene_at", "cleared": "cleared_at"}


def _check_step(assignment: Assignment, unit: Unit, step: str) -> None:
    if step not in UNIT_STEPS:
        raise ActionError(_("Choose a valid step."), field="step")
    done = getattr(assignment, STAMP_FOR_STEP[step]) is not None
    behind = step == "en_route" and assignment.on_scene_at is not None
    target = UNIT_STATUS_FOR_STEP[step]
    if done or behind or target not in TRANSITIONS[unit.status]:
        raise ActionError(
            _("Unit %(call_sign)s is already “%(status)s”.")
            % {"call_sign": unit.call_sign, "status": unit.get_status_display()},
            status=409,
            field="step",
        )


def _incident_step(actor: User | None, incident: Incident, step: str, data: dict) -> None:
    """Move the incident along with the unit when the step is ahead of it; when the last unit
    clears, the incident is cleared. Otherwise a timeline step only."""
    steps = Incident.FIELD_STEPS
    others_open = incident.assignments.filter(cleared_at__isnull=True).exists()
    ahead = incident.is_open and steps.index(step) > steps.index(incident.status)
    if ahead and not (step == Status.CLEARED and others_open):
        check_advance_status(
            actor, incident, status=step, expected_version=incident.version, data=data
        )
        return
    _write(incident, expected_version=None)
    _event(actor, incident, STEP_EVENTS[step], data=data)
    _audit(actor, AuditTag.INCIDENT_UPDATED, incident, data={"step": step, **data})


def check_unit_progress(
    actor: User | None,
    incident: Incident,
    unit: Unit,
    *,
    step: str,
    expected_unit_version: int,
) -> IncidentEvent:
    """A unit sent to ``incident`` reports a field step: en route, on scene, cleared (available
    again, load - 1). The incident follows (``check_advance_status``) when the step is ahead of
    it. A field-unit account moves only a unit it crews. Closing the incident clears its units
    (``_release_units``). The caller holds the transaction (row locks: incident first, then unit).
    """
    _check_crew(actor, unit)
    if step not in UNIT_STEPS:
        raise ActionError(_("Choose a valid step."), field="step")
    _check_unit_version(unit, expected_unit_version)
    assignment = _open_assignment(incident, unit)
    _check_step(assignment, unit, step)
    if step != "cleared":
        _open(incident)
    now = timezone.now()
    do_move_unit_for_incident(
        actor,
        unit,
        status=UNIT_STATUS_FOR_STEP[step],
        load_change=-1 if step == "cleared" else 0,
        expected_version=expected_unit_version,
        incident_id=incident.pk,
    )
    setattr(assignment, STAMP_FOR_STEP[step], now)
    assignment.save(update_fields=[STAMP_FOR_STEP[step]])
    data = {"unit": unit.pk, "call_sign": unit.call_sign, "assignment": assignment.pk}
    _incident_step(actor, incident, step, data)
    return incident.events.order_by("-at", "-pk").first()
