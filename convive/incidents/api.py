"""``/api/v1/incidents``: the command centre's queue, intake, triage and dispatch, as JSON.

Every operation reaches incidents through ``access.incidents_for``/``access_incident_by_id``
(404 for what the person may not see) and units through ``units.access.access_unit_by_id``.
Writes lock the incident (then the unit) inside one durable transaction and call one action.
A stale ``expected_version`` answers 409 with the error envelope plus ``current``: the incident
(``IncidentState``) or the unit (``unit_state``) as it is now, and nothing is written.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from django.db import transaction
from django.db.models import Q
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import Query, Router, Status

from convive.accounts.permissions import Action, api_permission
from convive.accounts.roles import Role
from convive.core.errors import ActionError
from convive.incidents import actions
from convive.incidents.access import access_incident_by_id, incidents_for
from convive.incidents.actions import IncidentState, VersionConflictError
from convive.incidents.models import Assignment, Incident
from convive.incidents.queries import learned_travel_speeds, list_open_incidents
from convive.incidents.schemas import (
    CloseCreate,
    ConflictPublic,
    DispatchCreate,
    DispatchPublic,
    EventPublic,
    Filters,
    FromReportCreate,
    IncidentCreate,
    IncidentDetailPublic,
    IncidentsPublic,
    IncidentSummaryPublic,
    NoteCreate,
    PairCreate,
    PriorityUpdate,
    ProgressCreate,
    RecommendationPublic,
    RecommendationsPublic,
    ReferralCreate,
    ReopenCreate,
    TransferCreate,
    conflict_body,
)
from convive.institutions.models import Institution
from convive.justice.models import JusticeService
from convive.reports.access import access_report_by_id
from convive.territories.models import City
from convive.units.access import access_unit_by_id, may_see_unit
from convive.units.actions import UnitConflictError, unit_state
from convive.units.queries import recommend_units

router = Router(tags=["incidents"])

WRITE = {200: IncidentSummaryPublic, 409: ConflictPublic}


def answer_conflicts(
    request: HttpRequest,
    change: Callable[[], Any],
    *,
    incident_id: int | None = None,
    unit_id: int | None = None,
) -> Any:
    """Run ``change`` (which owns its transaction); a conflict (409) is answered, after the
    rollback, with the current state: the one the error carries, or the unit (errors about the
    unit or its step) or the incident read again."""
    try:
        return change()
    except (VersionConflictError, UnitConflictError) as exc:
        return Status(409, conflict_body(exc.message, exc.field, exc.current))
    except ActionError as exc:
        if exc.status != 409:
            raise
        current: Any = None
        if unit_id is not None and exc.field in {"unit", "step"}:
            current = unit_state(access_unit_by_id(request.user, unit_id))
        elif incident_id is not None:
            current = IncidentState.of(access_incident_by_id(request.user, incident_id))
        return Status(409, conflict_body(exc.message, exc.field, current))


def _summary(incident: Incident) -> IncidentSummaryPublic:
    return IncidentSummaryPublic.from_incident(incident)


def change_incident(
    request: HttpRequest, incident_id: int, change: Callable[[Incident], Any]
) -> Any:
    """Lock the incident the user may see, apply one action to it, answer with its summary."""

    def run() -> IncidentSummaryPublic:
        with transaction.atomic(durable=True):
            incident = access_incident_by_id(request.user, incident_id, for_update=True)
            change(incident)
        return _summary(incident)

    return answer_conflicts(request, run, incident_id=incident_id)


# --- Reads -------------------------------------------------------------------------------------


def _filtered(request: HttpRequest, params: Filters):
    incidents = incidents_for(request.user)
    if params.since is not None:  # a reconnecting console: every change, closed ones too
        incidents = incidents.filter(updated_at__gte=params.since).order_by("updated_at", "pk")
    else:
        incidents = list_open_incidents(incidents)
    if params.status:
        if params.status not in Incident.Status.values:
            raise ActionError(
                _("Unknown status “%(status)s”.") % {"status": params.status}, field="status"
            )
        incidents = incidents.filter(status=params.status)
    if params.type:
        incidents = incidents.filter(type__code=params.type)
    if params.locality:
        incidents = incidents.filter(
            Q(locality_id=params.locality) | Q(neighbourhood__parent_id=params.locality)
        )
    return incidents


@router.get(
    "",
    response=IncidentsPublic,
    url_name="incidents_list",
    **api_permission(Action.INCIDENT_VIEW),
)
def list_incidents(request: HttpRequest, params: Query[Filters]) -> IncidentsPublic:
    """The open queue one may see, by priority then age; with ``since``, what changed since."""
    incidents = _filtered(request, params)
    page = incidents[params.offset : params.offset + params.limit]
    return IncidentsPublic(data=[_summary(i) for i in page], count=incidents.count())


@router.get(
    "/{int:incident_id}",
    response=IncidentDetailPublic,
    url_name="incidents_detail",
    **api_permission(Action.INCIDENT_VIEW),
)
def get_incident(request: HttpRequest, incident_id: int) -> IncidentDetailPublic:
    """One incident: its sources (caller data included), timeline and units. The look is
    recorded in the audit log."""
    with transaction.atomic(durable=True):
        incident = access_incident_by_id(request.user, incident_id)
        actions.do_record_incident_view(request.user, incident)
    return IncidentDetailPublic.from_incident(incident)


# --- Intake ------------------------------------------------------------------------------------


def _city_for(request: HttpRequest, slug: str | None) -> City:
    """The city the call is about: the one named (it must be one of the caller's), or the
    caller's own when they work for a single city."""
    user = request.user
    cities = {i.city_id for i in user.institutions()}
    if slug:
        city = City.objects.filter(slug=slug).first()
        if city is None or not (city.pk in cities or user.has_role(Role.PLATFORM_ADMIN)):
            raise ActionError(_("Unknown city “%(slug)s”.") % {"slug": slug}, field="city")
        return city
    if len(cities) != 1:
        raise ActionError(_("Say which city the call is about."), field="city")
    return City.objects.get(pk=cities.pop())


@router.post(
    "",
    response={201: IncidentSummaryPublic},
    url_name="incidents_create",
    **api_permission(Action.INCIDENT_CREATE),
)
def create_incident(request: HttpRequest, payload: IncidentCreate) -> Status:
    """Open an incident from a phone call (the territory is found from the point)."""
    city = _city_for(request, payload.city)
    with transaction.atomic(durable=True):
        incident = actions.check_create_incident_from_call(
            request.user,
            city=city,
            type_code=payload.type,
            lon=payload.lon,
            lat=payload.lat,
            address=payload.address,
            summary=payload.summary,
            caller_name=payload.caller_name,
            caller_phone=payload.caller_phone,
            received_at=payload.received_at,
            answered_at=payload.answered_at,
            protocol_answers=payload.protocol_answers,
            priority=payload.priority,
        )
    return Status(201, _summary(incident))


@router.post(
    "/from-report/{int:report_id}",
    response={201: IncidentSummaryPublic, 200: IncidentSummaryPublic},
    url_name="incidents_from_report",
    **api_permission(Action.INCIDENT_CREATE),
)
def create_from_report(request: HttpRequest, report_id: int, payload: FromReportCreate) -> Status:
    """Turn a citizen's report (or SOS) into an incident: 201, or 200 with the one it already
    became."""
    with transaction.atomic(durable=True):
        report = access_report_by_id(request.user, report_id)
        incident, created = actions.check_create_incident_from_report(
            request.user, report, type_code=payload.type, priority=payload.priority
        )
    return Status(201 if created else 200, _summary(incident))


# --- Triage, hand-off, closure -------------------------------------------------------------------


@router.post(
    "/{int:incident_id}/priority",
    response=WRITE,
    url_name="incidents_priority",
    **api_permission(Action.INCIDENT_HANDLE),
)
def change_priority(request: HttpRequest, incident_id: int, payload: PriorityUpdate) -> Any:
    return change_incident(
        request,
        incident_id,
        lambda incident: actions.check_change_priority(
            request.user,
            incident,
            priority=payload.priority,
            reason=payload.reason,
            expected_version=payload.expected_version,
        ),
    )


@router.post(
    "/{int:incident_id}/note",
    response={201: EventPublic, 409: ConflictPublic},
    url_name="incidents_note",
    **api_permission(Action.INCIDENT_HANDLE),
)
def add_note(request: HttpRequest, incident_id: int, payload: NoteCreate) -> Any:
    """An internal note (``expected_version`` optional: a note conflicts with nothing)."""

    def run() -> Status:
        with transaction.atomic(durable=True):
            incident = access_incident_by_id(request.user, incident_id, for_update=True)
            event = actions.check_add_note(
                request.user, incident, body=payload.body, expected_version=payload.expected_version
            )
        return Status(201, EventPublic.from_event(event))

    return answer_conflicts(request, run, incident_id=incident_id)


@router.post(
    "/{int:incident_id}/transfer",
    response=WRITE,
    url_name="incidents_transfer",
    **api_permission(Action.INCIDENT_SUPERVISE),
)
def transfer(request: HttpRequest, incident_id: int, payload: TransferCreate) -> Any:
    """Hand the incident to another institution of its city, saying why."""
    institution = Institution.objects.filter(pk=payload.institution_id).first()
    if institution is None:
        raise ActionError(_("Unknown institution."), field="institution_id")
    return change_incident(
        request,
        incident_id,
        lambda incident: actions.check_transfer(
            request.user,
            incident,
            to_institution=institution,
            reason=payload.reason,
            expected_version=payload.expected_version,
        ),
    )


@router.post(
    "/{int:incident_id}/close",
    response=WRITE,
    url_name="incidents_close",
    **api_permission(Action.INCIDENT_HANDLE),
)
def close(request: HttpRequest, incident_id: int, payload: CloseCreate) -> Any:
    return change_incident(
        request,
        incident_id,
        lambda incident: actions.check_close(
            request.user,
            incident,
            outcome=payload.outcome,
            expected_version=payload.expected_version,
        ),
    )


@router.post(
    "/{int:incident_id}/reopen",
    response=WRITE,
    url_name="incidents_reopen",
    **api_permission(Action.INCIDENT_SUPERVISE),
)
def reopen(request: HttpRequest, incident_id: int, payload: ReopenCreate) -> Any:
    return change_incident(
        request,
        incident_id,
        lambda incident: actions.check_reopen(
            request.user, incident, reason=payload.reason, expected_version=payload.expected_version
        ),
    )


def change_pair(
    request: HttpRequest,
    incident_id: int,
    other_id: int,
    change: Callable[[Incident, Incident], Any],
) -> Any:
    """Lock both incidents (lowest id first: no deadlock) and apply one action to the pair."""

    def run() -> IncidentSummaryPublic:
        with transaction.atomic(durable=True):
            locked = {
                pk: access_incident_by_id(request.user, pk, for_update=True)
                for pk in sorted({incident_id, other_id})
            }
            result = change(locked[incident_id], locked[other_id])
        return _summary(result if isinstance(result, Incident) else locked[incident_id])

    return answer_conflicts(request, run, incident_id=incident_id)


@router.post(
    "/{int:incident_id}/link",
    response=WRITE,
    url_name="incidents_link",
    **api_permission(Action.INCIDENT_SUPERVISE),
)
def link(request: HttpRequest, incident_id: int, payload: PairCreate) -> Any:
    """Link two related incidents (both stay open)."""
    return change_pair(
        request,
        incident_id,
        payload.other_id,
        lambda one, other: actions.check_link_incidents(
            request.user,
            one,
            other,
            reason=payload.reason,
            expected_versions=payload.expected_versions,
        ),
    )


@router.post(
    "/{int:incident_id}/merge",
    response=WRITE,
    url_name="incidents_merge",
    **api_permission(Action.INCIDENT_SUPERVISE),
)
def merge(request: HttpRequest, incident_id: int, payload: PairCreate) -> Any:
    """This incident is a duplicate of ``other_id``: merged into it; answers with the survivor."""
    return change_pair(
        request,
        incident_id,
        payload.other_id,
        lambda duplicate, into: actions.check_merge_incident(
            request.user,
            duplicate,
            into,
            reason=payload.reason,
            expected_versions=payload.expected_versions,
        ),
    )


@router.post(
    "/{int:incident_id}/referral",
    response={201: EventPublic, 409: ConflictPublic},
    url_name="incidents_referral",
    **api_permission(Action.INCIDENT_HANDLE),
)
def refer(request: HttpRequest, incident_id: int, payload: ReferralCreate) -> Any:
    """Refer the victim to a support service, only with their recorded consent."""
    service = JusticeService.objects.filter(pk=payload.service_id).first()
    if service is None:
        raise ActionError(_("Unknown service."), field="service_id")

    def run() -> Status:
        with transaction.atomic(durable=True):
            incident = access_incident_by_id(request.user, incident_id, for_update=True)
            event = actions.check_record_referral(
                request.user,
                incident,
                service=service,
                consent_given=payload.consent_given,
                consent_note=payload.consent_note,
                expected_version=payload.expected_version,
            )
        return Status(201, EventPublic.from_event(event))

    return answer_conflicts(request, run, incident_id=incident_id)


# --- Units -------------------------------------------------------------------------------------


@router.get(
    "/{int:incident_id}/recommendations",
    response=RecommendationsPublic,
    url_name="incidents_recommendations",
    **api_permission(Action.UNIT_VIEW),
)
def recommendations(
    request: HttpRequest, incident_id: int, k: int = Query(5, ge=1, le=20)
) -> RecommendationsPublic:
    """The ``k`` suitable units (the type's capabilities) one may dispatch that would arrive
    first, with the reasons to show."""
    incident = access_incident_by_id(request.user, incident_id)
    if incident.lon is None or incident.lat is None:
        raise ActionError(
            _("The incident has no point on the map: place it first."), status=409, field="location"
        )
    found = recommend_units(
        incident.city,
        lon=incident.lon,
        lat=incident.lat,
        capabilities=incident.type.required_capabilities,
        k=k,
        speeds=learned_travel_speeds(incident.city),
    )
    data = [
        RecommendationPublic(
            unit_id=r.unit.pk,
            call_sign=r.unit.call_sign,
            kind=r.unit.kind,
            status=r.unit.status,
            version=r.unit.version,
            current_load=r.unit.current_load,
            eta_seconds=r.eta_seconds,
            distance_m=r.distance_m,
            reasons=r.reasons,
        )
        for r in found
        if may_see_unit(request.user, r.unit)
    ]
    return RecommendationsPublic(data=data, count=len(data))


@router.post(
    "/{int:incident_id}/dispatch",
    response={201: DispatchPublic, 409: ConflictPublic},
    url_name="incidents_dispatch",
    **api_permission(Action.UNIT_DISPATCH),
)
def dispatch(request: HttpRequest, incident_id: int, payload: DispatchCreate) -> Any:
    """Send a unit. Both versions are the ones the dispatcher saw: 409 with ``current`` if
    either moved on (another dispatcher was faster); nothing is written then. With
    ``reassign``, a busy unit is taken from its incident (which one must be able to see)."""

    def run() -> Status:
        with transaction.atomic(durable=True):
            # Lock order everywhere: incidents by id, then the unit (no deadlock with the
            # field steps of the incident the unit leaves).
            ids = {
                incident_id,
                *(_current_incident_ids(payload.unit_id) if payload.reassign else ()),
            }
            locked = {
                pk: access_incident_by_id(request.user, pk, for_update=True) for pk in sorted(ids)
            }
            incident = locked[incident_id]
            unit = access_unit_by_id(request.user, payload.unit_id, for_update=True)
            event = actions.check_dispatch_unit(
                request.user,
                incident,
                unit,
                expected_incident_version=payload.expected_incident_version,
                expected_unit_version=payload.expected_unit_version,
                reassign=payload.reassign,
            )
        body = DispatchPublic(
            event=EventPublic.from_event(event), incident=_summary(incident), unit=unit_state(unit)
        )
        return Status(201, body)

    return answer_conflicts(request, run, incident_id=incident_id, unit_id=payload.unit_id)


def _current_incident_ids(unit_id: int) -> list[int]:
    """The incident a unit is assigned to now (read before locking, to lock it first)."""
    open_now = Assignment.objects.filter(unit_id=unit_id, cleared_at__isnull=True)
    return list(open_now.values_list("incident_id", flat=True))


@router.post(
    "/{int:incident_id}/units/{int:unit_id}/progress",
    response={200: DispatchPublic, 409: ConflictPublic},
    url_name="incidents_unit_progress",
    **api_permission(Action.INCIDENT_HANDLE),
)
def progress(request: HttpRequest, incident_id: int, unit_id: int, payload: ProgressCreate) -> Any:
    """A unit sent to the incident is en route, on scene, or cleared (available again)."""

    def run() -> DispatchPublic:
        with transaction.atomic(durable=True):
            incident = access_incident_by_id(request.user, incident_id, for_update=True)
            unit = access_unit_by_id(request.user, unit_id, for_update=True)
            event = actions.check_unit_progress(
                request.user,
                incident,
                unit,
                step=payload.step,
                expected_unit_version=payload.expected_unit_version,
            )
        return DispatchPublic(
            event=EventPublic.from_event(event), incident=_summary(incident), unit=unit_state(unit)
        )

    return answer_conflicts(request, run, incident_id=incident_id, unit_id=unit_id)
