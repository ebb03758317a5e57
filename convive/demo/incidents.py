"""The demo city's command centre: four weeks of past incidents and a few open ones right now.

Past incidents are calls (and a few panic-button presses) that went the whole way: received,
answered, created, a unit dispatched, en route, on scene, cleared, closed. Their intervals are
drawn from plausible distributions, so the response-time figures (``/kpis/``) have something to
show, with some calls answered late and some dispatches slow. The open ones fill the console: new
calls waiting for a unit, units on their way, one on scene.

As for the demo's reports (``convive/demo/reports.py``), they are written straight to the tables
with their own past times: replaying them through the staff actions would write audit entries
saying that staff did what the loader did. The audit log holds one true entry
(``demo:city:loaded``). Places go through the same lookup as real incidents (``locate``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import datetime, timedelta

from convive.accounts.models import User
from convive.core.geo import h3_cell
from convive.incidents.models import (
    Assignment,
    Incident,
    IncidentEvent,
    IncidentSource,
    IncidentType,
)
from convive.institutions.models import Institution
from convive.territories.models import City, Layer, Territory
from convive.territories.queries import locate
from convive.units.models import Unit

PAST_DAYS = 28
PAST_PER_DAY = (3, 9)  # calls a day that went the whole way, at random in this range
Kind = IncidentEvent.Kind


@dataclass(frozen=True)
class OpenPlan:
    type_code: str
    summary: str
    minutes_ago: int
    stage: str  # "new", "dispatched", "en_route", "on_scene"


OPEN_NOW = (
    OpenPlan("rina", "Riña entre vecinos frente a la tienda, uno con un palo.", 3, "new"),
    OpenPlan("hurto", "Le robaron el celular en el paradero; el ladrón huyó a pie.", 6, "new"),
    OpenPlan(
        "violencia-intrafamiliar",
        "Gritos y golpes en el apartamento del segundo piso; hay niños.",
        9,
        "dispatched",
    ),
    OpenPlan(
        "accidente-heridos",
        "Choque de moto y carro; el motociclista no se levanta.",
        12,
        "en_route",
    ),
    OpenPlan("ruido", "Fiesta con música a todo volumen desde las 10 p. m.", 25, "on_scene"),
)


def _neighbourhood_points(city: City, rng: random.Random, count: int) -> list[tuple[float, float]]:
    """Points near the middle of random neighbourhoods, kept only where ``locate`` finds one."""
    hoods = list(
        Territory.objects.filter(city=city, layer__kind=Layer.Kind.NEIGHBOURHOOD).order_by("code")
    )
    points: list[tuple[float, float]] = []
    while len(points) < count:
        hood = rng.choice(hoods)
        lon = round(hood.centroid_lon + rng.uniform(-0.002, 0.002), 6)
        lat = round(hood.centroid_lat + rng.uniform(-0.002, 0.002), 6)
        if locate(city, lon=lon, lat=lat):
            points.append((lon, lat))
    return points


def _unit_for(kind: IncidentType, units: Sequence[Unit], rng: random.Random) -> Unit | None:
    needed = set(kind.required_capabilities)
    able = [u for u in units if needed <= set(u.capabilities)]
    return rng.choice(able) if able else None


class _Writer:
    """Collects the rows of one incident at a time, with its own past times."""

    def __init__(self, city: City, staff: Mapping[str, User], institution: Institution | None):
        self.city = city
        self.staff = staff  # "call_taker", "dispatcher"
        self.institution = institution
        self.events: list[IncidentEvent] = []
        self.assignments: list[Assignment] = []
        self.incidents: dict[int, Incident] = {}  # those whose first times changed

    def incident(
        self, kind: IncidentType, point: tuple[float, float], created: datetime, summary: str
    ) -> Incident:
        lon, lat = point
        found = {t.layer.kind: t for t in locate(self.city, lon=lon, lat=lat)}
        locality = found.get(Layer.Kind.LOCALITY)
        return Incident.objects.create(
            city=self.city,
            type=kind,
            priority=kind.default_priority,
            lon=lon,
            lat=lat,
            h3_cell=h3_cell(lon, lat),
            locality=locality,
            neighbourhood=found.get(Layer.Kind.NEIGHBOURHOOD),
            institution=self.institution,
            summary=summary,
            created_by=self.staff["call_taker"],
            created_at=created,
            updated_at=created,
        )

    def step(
        self, incident: Incident, kind: str, at: datetime, actor: str | None, **data: object
    ) -> None:
        self.events.append(
            IncidentEvent(
                incident=incident,
                kind=kind,
                at=at,
                actor=self.staff.get(actor) if actor else None,
                institution=incident.institution,
                data=data,
            )
        )
        # The incident's first time of this kind, as the actions keep it (docs/kpis.md).
        name = Incident.FIRST_TIME_FIELDS.get(kind)
        if name is not None and (getattr(incident, name) is None or at < getattr(incident, name)):
            setattr(incident, name, at)
            self.incidents[incident.pk] = incident

    def assign(self, incident: Incident, unit: Unit, **times: datetime | float) -> None:
        self.assignments.append(
            Assignment(
                incident=incident, unit=unit, dispatched_by=self.staff["dispatcher"], **times
            )
        )

    def flush(self) -> None:
        IncidentEvent.objects.bulk_create(self.events)
        Assignment.objects.bulk_create(self.assignments)
        fields = list(Incident.FIRST_TIME_FIELDS.values())
        Incident.objects.bulk_update(self.incidents.values(), fields, batch_size=500)
        self.events, self.assignments, self.incidents = [], [], {}


def _call(writer: _Writer, incident: Incident, received: datetime, answered: datetime) -> None:
    source = IncidentSource.objects.create(
        incident=incident, kind=IncidentSource.Kind.CALL, received_at=received, answered_at=answered
    )
    writer.step(incident, Kind.CALL_RECEIVED, received, "call_taker", source=source.pk)
    writer.step(incident, Kind.CALL_ANSWERED, answered, "call_taker", source=source.pk)


def _distance(incident: Incident, took: timedelta) -> float:
    """How far the unit was at dispatch, for a trip that took ``took`` to the scene: at a
    straight-line 3 to 6 m/s (streets, traffic and turnout included), from a generator of its own
    so that the rest of the demo stays as it was."""
    return took.total_seconds() * random.Random(incident.pk).uniform(3.0, 6.0)


def _seconds(rng: random.Random, typical: float, spread: float, low: float) -> timedelta:
    """A right-skewed duration around ``typical`` seconds (log-normal), at least ``low``."""
    return timedelta(seconds=max(low, rng.lognormvariate(0, spread) * typical))


def _past(
    writer: _Writer,
    rng: random.Random,
    kinds: Sequence[IncidentType],
    units: Sequence[Unit],
    point: tuple[float, float],
    received: datetime,
) -> None:
    kind = rng.choice(kinds)
    answered = received + _seconds(rng, 8, 0.6, 1)
    created = answered + _seconds(rng, 70, 0.4, 20)
    incident = writer.incident(kind, point, created, kind.name_es)
    _call(writer, incident, received, answered)
    writer.step(incident, Kind.CREATED, created, "call_taker", type=kind.code)
    unit = _unit_for(kind, units, rng)
    end = created + _seconds(rng, 600, 0.5, 120)
    if unit is not None:
        dispatched = created + _seconds(rng, 45, 0.7, 5)
        en_route = dispatched + _seconds(rng, 60, 0.5, 10)
        on_scene = en_route + _seconds(rng, 420, 0.5, 60)
        cleared = on_scene + _seconds(rng, 1200, 0.6, 120)
        unit_data = {"unit": unit.pk, "call_sign": unit.call_sign}
        writer.step(incident, Kind.DISPATCHED, dispatched, "dispatcher", **unit_data)
        writer.step(incident, Kind.EN_ROUTE, en_route, None, **unit_data)
        writer.step(incident, Kind.ON_SCENE, on_scene, None, **unit_data)
        writer.step(incident, Kind.CLEARED, cleared, None, **unit_data)
        writer.assign(
            incident,
            unit,
            dispatched_at=dispatched,
            en_route_at=en_route,
            on_scene_at=on_scene,
            cleared_at=cleared,
            distance_m=_distance(incident, on_scene - dispatched),
        )
        end = cleared + _seconds(rng, 300, 0.5, 30)
    writer.step(incident, Kind.CLOSED, end, "dispatcher")
    Incident.objects.filter(pk=incident.pk).update(
        status=Incident.Status.CLOSED,
        closed_at=end,
        updated_at=end,
        outcome="Atendido; sin novedad adicional.",
    )


def _open(
    writer: _Writer,
    rng: random.Random,
    plan: OpenPlan,
    kinds: Mapping[str, IncidentType],
    units: Sequence[Unit],
    point: tuple[float, float],
    now: datetime,
) -> None:
    kind = kinds.get(plan.type_code)
    if kind is None:  # the catalogue was edited: leave it out
        return
    created = now - timedelta(minutes=plan.minutes_ago)
    received = created - timedelta(seconds=rng.uniform(40, 90))
    answered = received + timedelta(seconds=rng.uniform(3, 12))
    incident = writer.incident(kind, point, created, plan.summary)
    _call(writer, incident, received, answered)
    writer.step(incident, Kind.CREATED, created, "call_taker", type=kind.code)
    status = Incident.Status.NEW
    stages = ("dispatched", "en_route", "on_scene")
    if plan.stage in stages:
        unit = _unit_for(kind, [u for u in units if u.status == Unit.Status.AVAILABLE], rng)
        if unit is not None:
            reached = stages[: stages.index(plan.stage) + 1]
            steps = {"dispatched": Kind.DISPATCHED, "en_route": Kind.EN_ROUTE}
            steps["on_scene"] = Kind.ON_SCENE
            times = {}
            for number, stage in enumerate(reached, start=1):
                at = created + timedelta(minutes=number)
                times[f"{stage}_at"] = at
                actor = "dispatcher" if stage == "dispatched" else None
                unit_data = {"unit": unit.pk, "call_sign": unit.call_sign}
                writer.step(incident, steps[stage], at, actor, **unit_data)
            writer.assign(incident, unit, **times)
            status = Incident.Status(plan.stage)
            Unit.objects.filter(pk=unit.pk).update(status=Unit.Status(plan.stage), current_load=1)
            unit.status = Unit.Status(plan.stage)
    Incident.objects.filter(pk=incident.pk).update(status=status)


def do_load_demo_incidents(
    city: City,
    *,
    seed: int,
    call_taker: User,
    dispatcher: User,
    institution: Institution | None,
    now: datetime,
) -> int:
    """Write the demo's incidents, taken by ``call_taker`` and dispatched by ``dispatcher`` of
    ``institution`` (the command centre). Returns how many incidents were written."""
    rng = random.Random(f"incidents-{seed}")
    kinds = {k.code: k for k in IncidentType.objects.filter(active=True).order_by("order")}
    callable_kinds = [k for code, k in kinds.items() if code not in {"sos", "boton-panico"}]
    units = list(Unit.objects.filter(institution__city=city, active=True).order_by("call_sign"))
    writer = _Writer(city, {"call_taker": call_taker, "dispatcher": dispatcher}, institution)
    days = [rng.randint(*PAST_PER_DAY) for _ in range(PAST_DAYS)]
    points = iter(_neighbourhood_points(city, rng, sum(days) + len(OPEN_NOW)))
    written = 0
    for day, calls in enumerate(days, start=1):
        midnight = (now - timedelta(days=day)).replace(hour=0, minute=0, second=0, microsecond=0)
        for _ in range(calls):
            received = midnight + timedelta(seconds=rng.uniform(0, 86_400))
            _past(writer, rng, callable_kinds, units, next(points), received)
            written += 1
    for plan in OPEN_NOW:
        _open(writer, rng, plan, kinds, units, next(points), now)
        written += 1
    writer.flush()
    return written
