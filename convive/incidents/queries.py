"""Reads about incidents: the open queue, possible duplicates, a timeline, what a citizen sees."""

from __future__ import annotations

import math
import statistics
import time
from dataclasses import dataclass
from datetime import datetime, timedelta

import h3
from django.db.models import QuerySet
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from convive.core.geo import H3_RESOLUTION
from convive.incidents.models import (
    Assignment,
    Incident,
    IncidentEvent,
    IncidentSource,
    IncidentType,
)
from convive.reports.models import Report
from convive.territories.models import City
from convive.units.queries import TravelSpeeds

EARTH_RADIUS_METRES = 6_371_008.8
DUPLICATE_METRES = 300
DUPLICATE_MINUTES = 60
MAX_DUPLICATE_METRES = 2_000


def distance_metres(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine): plenty for a few hundred metres."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    dphi, dlambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(dphi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(dlambda / 2) ** 2
    return 2 * EARTH_RADIUS_METRES * math.asin(math.sqrt(a))


def _cells_within(lon: float, lat: float, metres: float) -> list[str]:
    """H3 cells that cover every point within ``metres``: the prefilter for the exact distance.

    Neighbouring resolution-9 cells are ≥ ~300 m apart centre to centre (hexagons vary in size
    with latitude), so one ring per 150 m and one more for the point's own offset is generous.
    """
    rings = math.ceil(metres / 150) + 1
    return list(h3.grid_disk(h3.latlng_to_cell(lat, lon, H3_RESOLUTION), rings))


def nearby_open_duplicates(
    *,
    city: City,
    incident_type: IncidentType,
    lon: float | None,
    lat: float | None,
    metres: float = DUPLICATE_METRES,
    minutes: int = DUPLICATE_MINUTES,
    exclude_id: int | None = None,
    now: datetime | None = None,
) -> list[Incident]:
    """Open incidents of the same type within ``metres`` created in the last ``minutes``,
    nearest first: what the call-taking form offers as possible duplicates."""
    if lon is None or lat is None:
        return []
    metres = min(float(metres), MAX_DUPLICATE_METRES)
    since = (now or timezone.now()) - timedelta(minutes=minutes)
    candidates = (
        Incident.objects.filter(
            city=city,
            type=incident_type,
            status__in=Incident.OPEN_STATUSES,
            created_at__gte=since,
            h3_cell__in=_cells_within(lon, lat, metres),
        )
        .exclude(pk=exclude_id)
        .select_related("type", "locality")
    )
    near = [
        (distance_metres(lon, lat, i.lon, i.lat), i.pk, i)
        for i in candidates
        if i.lon is not None and i.lat is not None
    ]
    return [incident for d, _pk, incident in sorted(near) if d <= metres]


def list_open_incidents(incidents: QuerySet[Incident]) -> QuerySet[Incident]:
    """The open ones of ``incidents`` (scoped by ``access.incidents_for``): priority, then age."""
    return incidents.filter(status__in=Incident.OPEN_STATUSES).order_by("priority", "created_at")


def list_timeline(incident: Incident) -> QuerySet[IncidentEvent]:
    """The staff timeline, oldest first, with who did each step."""
    return incident.events.select_related("actor", "institution").order_by("at", "pk")


# --- What the citizen who reported sees ----------------------------------------------------------

# Steps a citizen may see: no notes, nothing about other callers, links, merges or referrals.
PUBLIC_KINDS = (
    IncidentEvent.Kind.CREATED,
    IncidentEvent.Kind.DISPATCHED,
    IncidentEvent.Kind.EN_ROUTE,
    IncidentEvent.Kind.ON_SCENE,
    IncidentEvent.Kind.TRANSFERRED,
    IncidentEvent.Kind.CLEARED,
    IncidentEvent.Kind.CLOSED,
    IncidentEvent.Kind.REOPENED,
)


# The citizen's words for each public step and status: what happened for them, not the centre's
# jargon. Staff pages keep the model's labels.
CITIZEN_STEP_LABELS = {
    IncidentEvent.Kind.CREATED: _("The command centre took charge"),
    IncidentEvent.Kind.DISPATCHED: _("A unit was sent"),
    IncidentEvent.Kind.EN_ROUTE: _("The unit is on its way"),
    IncidentEvent.Kind.ON_SCENE: _("The unit arrived"),
    IncidentEvent.Kind.TRANSFERRED: _("Handed to another institution"),
    IncidentEvent.Kind.CLEARED: _("The unit finished at the scene"),
    IncidentEvent.Kind.CLOSED: _("Closed"),
    IncidentEvent.Kind.REOPENED: _("Reopened"),
}
CITIZEN_STATUS_LABELS = {
    Incident.Status.NEW: _("Received by the command centre"),
    Incident.Status.DISPATCHED: _("A unit was sent"),
    Incident.Status.EN_ROUTE: _("A unit is on its way"),
    Incident.Status.ON_SCENE: _("A unit is at the scene"),
    Incident.Status.CLEARED: _("Attended"),
    Incident.Status.CLOSED: _("Closed"),
}


@dataclass(frozen=True)
class PublicStep:
    kind: str
    label: str
    at: datetime


@dataclass(frozen=True)
class IncidentStatusPublic:
    """The status of the incident a citizen's report or SOS became, and its public steps only."""

    status: str
    status_label: str
    is_open: bool
    steps: tuple[PublicStep, ...]

    @property
    def version(self) -> str:
        """Changes whenever what the citizen sees changes (the page's live refresh compares it)."""
        last = self.steps[-1].at.isoformat() if self.steps else ""
        return f"{self.status}-{len(self.steps)}-{last}"


def incident_of_report(report: Report) -> Incident | None:
    """The command-centre incident ``report`` became (its source now), if any: for staff."""
    source = (
        IncidentSource.objects.filter(report=report)
        .select_related("incident", "incident__type")
        .order_by()
        .first()
    )
    return source.incident if source is not None else None


def incident_status_for_report(report: Report) -> IncidentStatusPublic | None:
    """None when the report has not become an incident. The caller has checked that the person
    may see the report (``reports.access``); a merged incident answers for its survivor, which
    holds the report's source now."""
    incident = incident_of_report(report)
    if incident is None:
        return None
    events = incident.events.filter(kind__in=PUBLIC_KINDS).order_by("at", "pk")
    steps = tuple(PublicStep(e.kind, str(CITIZEN_STEP_LABELS[e.kind]), e.at) for e in events)
    return IncidentStatusPublic(
        incident.status,
        str(CITIZEN_STATUS_LABELS[incident.status]),
        incident.status in Incident.OPEN_STATUSES,
        steps,
    )


# --- What the crew of a unit sees of its incident -----------------------------------------------

# Steps the command centre takes that the crew on the way should know of: its notes, a new
# priority, another unit sent, the hand-over to another institution, the closure, a reopening.
FIELD_UPDATE_KINDS = (
    IncidentEvent.Kind.NOTE,
    IncidentEvent.Kind.PRIORITY_CHANGED,
    IncidentEvent.Kind.DISPATCHED,
    IncidentEvent.Kind.TRANSFERRED,
    IncidentEvent.Kind.CLOSED,
    IncidentEvent.Kind.REOPENED,
)
FIELD_UPDATES = 3
RECENTLY_CLOSED_MINUTES = 60


def list_field_updates(
    incident: Incident, *, unit_id: int | None = None, limit: int = FIELD_UPDATES
) -> list[IncidentEvent]:
    """The latest of the centre's steps on ``incident`` that its units' crews are shown
    (``FIELD_UPDATE_KINDS``), newest first, leaving out the dispatch of ``unit_id`` itself (the
    crew's own unit: their page says so already). The caller checked that the person crews a
    unit the incident was assigned to (``convive.units.views``)."""
    events = incident.events.filter(kind__in=FIELD_UPDATE_KINDS)
    if unit_id is not None:
        events = events.exclude(kind=IncidentEvent.Kind.DISPATCHED, data__unit=unit_id)
    return list(events.select_related("institution").order_by("-at", "-pk")[:limit])


def last_closed_assignment(
    unit_id: int, *, minutes: int = RECENTLY_CLOSED_MINUTES, now: datetime | None = None
) -> Assignment | None:
    """The unit's latest assignment cleared in the last ``minutes`` whose incident is closed
    now: the centre closed it (closing clears the units still on it), which the crew is told."""
    since = (now or timezone.now()) - timedelta(minutes=minutes)
    return (
        Assignment.objects.filter(
            unit_id=unit_id,
            cleared_at__gte=since,
            incident__status=Incident.Status.CLOSED,
        )
        .select_related("incident", "incident__type")
        .order_by("-cleared_at", "-pk")
        .first()
    )


# --- Travel speeds learned from the city's own trips --------------------------------------------

LEARN_DAYS = 90
LEARN_MIN_TRIPS = 30  # fewer trips of a kind: its default estimate stays
LEARN_MAX_TRIPS = 5000  # the most recent, all kinds together
LEARN_MIN_METRES = 200  # shorter trips are mostly turnout: they say little about speed
LEARN_MPS_RANGE = (0.5, 40.0)  # outside: a clock or a position was wrong
LEARN_TTL_SECONDS = 600.0  # speeds change slowly: each process re-learns every ten minutes
_learned: dict[tuple[int, datetime], tuple[float, TravelSpeeds]] = {}


def learned_travel_speeds(
    city: City, *, now: datetime | None = None, fresh: bool = False
) -> TravelSpeeds:
    """The effective straight-line speed of each kind of unit in ``city`` (dispatch to on
    scene, turnout included): the median of its trips of the last ``LEARN_DAYS`` days, for kinds
    with at least ``LEARN_MIN_TRIPS``; the default estimate for the others. Kept per process for
    ``LEARN_TTL_SECONDS`` (``fresh``: learn now)."""
    key = (city.pk, city.created_at)
    clock = time.monotonic()
    kept = _learned.get(key)
    if kept is not None and not fresh and clock - kept[0] < LEARN_TTL_SECONDS:
        return kept[1]
    since = (now or timezone.now()) - timedelta(days=LEARN_DAYS)
    trips = (
        Assignment.objects.filter(
            unit__institution__city=city,
            dispatched_at__gte=since,
            on_scene_at__isnull=False,
            distance_m__gte=LEARN_MIN_METRES,
        )
        .order_by("-dispatched_at")
        .values_list("unit__kind", "distance_m", "dispatched_at", "on_scene_at")[:LEARN_MAX_TRIPS]
    )
    low, high = LEARN_MPS_RANGE
    by_kind: dict[str, list[float]] = {}
    for kind, metres, dispatched_at, on_scene_at in trips:
        seconds = (on_scene_at - dispatched_at).total_seconds()
        if seconds > 0 and low <= metres / seconds <= high:
            by_kind.setdefault(kind, []).append(metres / seconds)
    speeds = TravelSpeeds.learned(
        {
            kind: (statistics.median(values), len(values))
            for kind, values in by_kind.items()
            if len(values) >= LEARN_MIN_TRIPS
        }
    )
    _learned[key] = (clock, speeds)
    return speeds
