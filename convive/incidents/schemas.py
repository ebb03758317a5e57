"""API schemas of ``/api/v1/incidents``: what the console sends (``*Create``/``*Update``) and gets.

Every reader of these schemas is command-centre staff (``Action.INCIDENT_VIEW``); the caller's
name and phone appear only in the detail, whose every look is recorded in the audit log.
"""

from __future__ import annotations

from dataclasses import asdict
from datetime import datetime
from typing import Any, Literal

from ninja import Field, Schema

from convive.incidents.actions import IncidentState
from convive.incidents.models import Assignment, Incident, IncidentEvent, IncidentSource
from convive.incidents.queries import list_timeline
from convive.reports.schemas import Input

# --- What the console reads --------------------------------------------------------------------


class IncidentSummaryPublic(Schema):
    """One row of the queue (and what every write answers with)."""

    id: int
    reference: str
    version: int
    status: str
    status_label: str
    priority: int
    type: str
    type_name: str
    lon: float | None
    lat: float | None
    address: str
    locality_id: int | None
    neighbourhood_id: int | None
    institution_id: int | None
    summary: str
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None

    @classmethod
    def from_incident(cls, incident: Incident) -> IncidentSummaryPublic:
        return cls(
            id=incident.pk,
            reference=incident.reference,
            version=incident.version,
            status=incident.status,
            status_label=str(incident.get_status_display()),
            priority=incident.priority,
            type=incident.type.code,
            type_name=incident.type.name,
            lon=incident.lon,
            lat=incident.lat,
            address=incident.address,
            locality_id=incident.locality_id,
            neighbourhood_id=incident.neighbourhood_id,
            institution_id=incident.institution_id,
            summary=incident.summary,
            created_at=incident.created_at,
            updated_at=incident.updated_at,
            closed_at=incident.closed_at,
        )


class IncidentsPublic(Schema):
    data: list[IncidentSummaryPublic]
    count: int


class SourcePublic(Schema):
    id: int
    kind: str
    kind_label: str
    report_id: int | None
    caller_name: str
    caller_phone: str
    received_at: datetime
    answered_at: datetime | None

    @classmethod
    def from_source(cls, source: IncidentSource) -> SourcePublic:
        return cls(
            id=source.pk,
            kind=source.kind,
            kind_label=str(source.get_kind_display()),
            report_id=source.report_id,
            caller_name=source.caller_name,
            caller_phone=source.caller_phone,
            received_at=source.received_at,
            answered_at=source.answered_at,
        )


class EventPublic(Schema):
    id: int
    kind: str
    kind_label: str
    at: datetime
    actor: str | None
    institution_id: int | None
    body: str
    data: dict[str, Any]

    @classmethod
    def from_event(cls, event: IncidentEvent) -> EventPublic:
        return cls(
            id=event.pk,
            kind=event.kind,
            kind_label=str(event.get_kind_display()),
            at=event.at,
            actor=event.actor.get_username() if event.actor_id else None,
            institution_id=event.institution_id,
            body=event.body,
            data=event.data,
        )


class AssignmentPublic(Schema):
    id: int
    unit_id: int
    call_sign: str
    unit_status: str
    dispatched_at: datetime
    en_route_at: datetime | None
    on_scene_at: datetime | None
    cleared_at: datetime | None

    @classmethod
    def from_assignment(cls, assignment: Assignment) -> AssignmentPublic:
        return cls(
            id=assignment.pk,
            unit_id=assignment.unit_id,
            call_sign=assignment.unit.call_sign,
            unit_status=assignment.unit.status,
            dispatched_at=assignment.dispatched_at,
            en_route_at=assignment.en_route_at,
            on_scene_at=assignment.on_scene_at,
            cleared_at=assignment.cleared_at,
        )


class IncidentDetailPublic(IncidentSummaryPublic):
    description: str
    outcome: str
    protocol_answers: dict[str, str]
    merged_into_id: int | None
    linked_ids: list[int]
    sources: list[SourcePublic]
    timeline: list[EventPublic]
    assignments: list[AssignmentPublic] = Field(
        description="Units sent to the incident, open ones (cleared_at null) included."
    )

    @classmethod
    def from_incident(cls, incident: Incident) -> IncidentDetailPublic:
        summary = IncidentSummaryPublic.from_incident(incident).model_dump()
        assignments = incident.assignments.select_related("unit").order_by("dispatched_at", "pk")
        return cls(
            **summary,
            description=incident.description,
            outcome=incident.outcome,
            protocol_answers=incident.protocol_answers,
            merged_into_id=incident.merged_into_id,
            linked_ids=sorted(incident.linked.values_list("pk", flat=True)),
            sources=[SourcePublic.from_source(s) for s in incident.sources.order_by("pk")],
            timeline=[EventPublic.from_event(e) for e in list_timeline(incident)],
            assignments=[AssignmentPublic.from_assignment(a) for a in assignments],
        )


class RecommendationPublic(Schema):
    unit_id: int
    call_sign: str
    kind: str
    status: str
    version: int
    current_load: int
    eta_seconds: int
    distance_m: int
    reasons: list[str]


class RecommendationsPublic(Schema):
    data: list[RecommendationPublic]
    count: int


class DispatchPublic(Schema):
    """The dispatch as done: the timeline step, the incident and the unit as they are now."""

    event: EventPublic
    incident: IncidentSummaryPublic
    unit: dict[str, Any]


class ConflictPublic(Schema):
    """A 409: the error envelope plus ``current``, the incident or unit as it is now."""

    ok: bool = False
    error: str
    errors: list[dict[str, Any]]
    status: int = 409
    current: dict[str, Any] | None = None


def conflict_body(message: str, field: str | None, current: Any) -> dict[str, Any]:
    if isinstance(current, IncidentState):
        current = asdict(current)
    errors = [{"field": field, "message": message}] if field else []
    return {"ok": False, "error": message, "errors": errors, "status": 409, "current": current}


# --- What the console sends ---------------------------------------------------------------------


class Filters(Schema):
    status: str | None = None
    type: str | None = None
    locality: int | None = None
    since: datetime | None = Field(
        None,
        description="Catch up after a reconnection: every incident changed since then, "
        "closed ones included, oldest change first.",
    )
    limit: int = Field(200, ge=1, le=500)
    offset: int = Field(0, ge=0)


class IncidentCreate(Input):
    city: str | None = Field(None, description="City slug; by default the caller's own.")
    type: str = Field(max_length=64)
    lon: float | None = None
    lat: float | None = None
    address: str = Field("", max_length=300)
    summary: str = Field("", max_length=300)
    caller_name: str = Field("", max_length=150)
    caller_phone: str = Field("", max_length=32)
    received_at: datetime
    answered_at: datetime
    protocol_answers: dict[str, str] = Field(default_factory=dict)
    priority: int | None = Field(None, ge=1, le=4)


class FromReportCreate(Input):
    type: str | None = Field(None, max_length=64)
    priority: int | None = Field(None, ge=1, le=4)


class PriorityUpdate(Input):
    priority: int
    reason: str = Field(max_length=4000)
    expected_version: int


class NoteCreate(Input):
    body: str = Field(max_length=4000)
    expected_version: int | None = None


class TransferCreate(Input):
    institution_id: int
    reason: str = Field(max_length=4000)
    expected_version: int


class CloseCreate(Input):
    outcome: str = Field(max_length=4000)
    expected_version: int


class ReopenCreate(Input):
    reason: str = Field(max_length=4000)
    expected_version: int


class PairCreate(Input):
    """Link or merge: ``expected_versions`` maps each incident's id to the version one saw."""

    other_id: int = Field(description="Link: the other incident. Merge: the one to keep.")
    reason: str = Field(max_length=4000)
    expected_versions: dict[int, int]


class ReferralCreate(Input):
    service_id: int
    consent_given: bool
    consent_note: str = Field(max_length=1000)
    expected_version: int | None = None


class DispatchCreate(Input):
    unit_id: int
    expected_incident_version: int
    expected_unit_version: int
    reassign: bool = Field(
        False,
        description="Take the unit from the incident it is on now (one you may see): it is "
        "cleared there, and that incident's timeline says so.",
    )


class ProgressCreate(Input):
    step: Literal["en_route", "on_scene", "cleared"]
    expected_unit_version: int
