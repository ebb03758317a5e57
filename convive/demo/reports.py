"""The demo city's reports: the catalogue's routing rules for Villa Esperanza, and a few weeks of
citizens' reports with what the institutions did about them.

Who handles what (``ROUTES``): crimes go to the police station of the locality, with the
Policía Metropolitana as the city-wide fallback; violence in the family to the locality's
Comisaría de Familia; coexistence and the state of public space to its Alcaldía Local;
emergencies and broken cameras to the command centre (C4). A report on the border of two
localities, or written as an address only for a coexistence problem, lands in the fallback
queue that the C4 works through.

The reports are a script (``STORIES``) placed on the map from the seed, so the same seed gives
the same reports in the same places. They are written as the past they pretend to be, with
their own dates, straight to the tables as the rest of the demo is: replaying them through the
staff actions would e-mail the demo citizens today about things that "happened" last week, and
would write audit entries saying that staff did what the loader did. The audit log holds one
true entry instead (``demo:city:loaded``). Routing, answers and locations go through the same
code as real reports (``route_report``, ``check_answers``, ``locate``).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any

import numpy as np
import shapely
from shapely.geometry import Point, Polygon

from convive.accounts.models import User
from convive.core.geo import h3_cell
from convive.demo.facilities import (
    COMMAND_CENTRE,
    POLICE,
    commissary_slug,
    mayors_office_slug,
    station_slug,
)
from convive.demo.generate import DemoCity
from convive.demo.shapes import (
    CENTRE_LAT,
    CENTRE_LON,
    KM_PER_DEG_LAT,
    KM_PER_DEG_LON,
    StreetGrid,
    point_inside,
    point_to_lon_lat,
)
from convive.institutions.models import Institution
from convive.reports.answers import check_answers
from convive.reports.models import Category, Report, ReportEvent, RoutingRule, Supporter
from convive.reports.routing import locality_of, route_report
from convive.territories.models import City, Layer, Territory
from convive.territories.queries import locate

# --- Routing rules ----------------------------------------------------------------------------

TO_STATION = (
    "robo-personas",
    "hurto",
    "hurto-vehiculo",
    "hurto-residencia",
    "hurto-comercio",
    "extorsion",
    "venta-drogas",
    "danos-bienes",
    "armas",
    "lesiones",
    "amenazas",
    "acoso-sexual",
)
TO_COMMISSARY = ("violencia-intrafamiliar",)
TO_MAYORS_OFFICE = (
    "ruido",
    "rina",
    "consumo-espacio-publico",
    "invasion-espacio-publico",
    "animales-peligrosos",
    "alumbrado",
    "lote-abandonado",
    "basuras",
    "parque-mal-estado",
    "visibilidad",
)
TO_COMMAND_CENTRE = ("sos", "violencia-en-curso", "camara-danada")
LOCAL_PRIORITY, CITYWIDE_PRIORITY = 10, 100


def _rule(
    city: City, category: Category, institution: Institution, territory: Territory | None = None
) -> RoutingRule:
    priority = LOCAL_PRIORITY if territory is not None else CITYWIDE_PRIORITY
    return RoutingRule(
        city=city,
        category=category,
        territory=territory,
        institution=institution,
        priority=priority,
    )


def do_create_demo_routing_rules(
    city: City,
    institutions: Mapping[str, Institution],
    localities: Mapping[str, Territory],
) -> int:
    """One rule per category and locality, and the city-wide ones (see the module docstring)."""
    categories = {c.code: c for c in Category.objects.all()}
    rules: list[RoutingRule] = []
    for code, locality in sorted(localities.items()):
        for slug_of, codes in (
            (station_slug, TO_STATION),
            (commissary_slug, TO_COMMISSARY),
            (mayors_office_slug, TO_MAYORS_OFFICE),
        ):
            institution = institutions[slug_of(code)]
            rules += [_rule(city, categories[c], institution, locality) for c in codes]
    police, c4 = institutions[POLICE], institutions[COMMAND_CENTRE]
    rules += [_rule(city, categories[c], police) for c in TO_STATION + TO_COMMISSARY]
    rules += [_rule(city, categories[c], c4) for c in TO_COMMAND_CENTRE]
    RoutingRule.objects.bulk_create(rules)
    return len(rules)


# --- The script -------------------------------------------------------------------------------


@dataclass(frozen=True)
class Step:
    """What someone at an institution did, as the matching ``check_*`` action would do it."""

    kind: str  # assign, reply, note, status, reroute, hide
    actor: str  # username
    text: str = ""
    status: str = ""
    target: str = ""  # the assignee's username, or the institution slug of a reroute


@dataclass(frozen=True)
class Story:
    code: str  # category
    where: str  # a locality code, "any", "boundary", or "address" (no point)
    description: str
    hours_ago: float
    reporter: str = ""  # a demo citizen's username; "" = no account
    anonymous: bool = False
    answers: tuple[tuple[str, Any], ...] = ()  # "cuando" is filled in: an hour before reporting
    steps: tuple[Step, ...] = ()
    supporters: tuple[str, ...] = ()
    address: str = ""


S = Report.Status
STORIES: tuple[Story, ...] = (
    Story(
        "sos",
        "01",
        "Gritos de auxilio en el segundo piso; parece que están golpeando a alguien.",
        0.25,
        anonymous=True,
    ),
    Story(
        "robo-personas",
        "01",
        "Dos hombres en moto me quitaron el celular con un cuchillo al bajarme del bus.",
        70,
        reporter="ciudadana",
        answers=(("cuando", None), ("armas", "blanca")),
        steps=(
            Step("assign", "supervisora", target="patrulla"),
            Step(
                "reply",
                "supervisora",
                "Recibimos su reporte. La patrulla del cuadrante revisará las cámaras del sector "
                "y reforzará la vigilancia en el paradero.",
            ),
            Step(
                "note",
                "supervisora",
                "Tercer caso en este paradero en dos semanas: pedir al C4 las cámaras de la "
                "esquina.",
            ),
            Step("status", "supervisora", status=S.IN_PROGRESS),
        ),
    ),
    Story(
        "hurto",
        "01",
        "Me sacaron la billetera del bolso en la buseta, entre la calle 10 y la 20.",
        220,
        anonymous=True,
        answers=(("cuando", None), ("objeto", "dinero")),
        steps=(
            Step(
                "status",
                "supervisora",
                "Se reforzó el patrullaje de la ruta en las horas de más pasajeros; la semana "
                "pasada se capturó a una persona en flagrancia.",
                status=S.RESOLVED,
            ),
        ),
    ),
    Story(
        "hurto-vehiculo",
        "01",
        "Se robaron los espejos de mi carro, parqueado frente a la casa.",
        150,
        reporter="vecino",
        answers=(("cuando", None),),
        steps=(
            Step(
                "reply",
                "supervisora",
                "Para el seguro necesita una denuncia formal ante la Fiscalía: puede hacerla en "
                "línea o en la URI.",
            ),
            Step(
                "status",
                "supervisora",
                "La denuncia formal se tramita en la Fiscalía; la estación no puede abrirla "
                "desde este reporte.",
                status=S.REJECTED,
            ),
        ),
    ),
    Story(
        "hurto",
        "01",
        "asdf prueba prueba jajaja",
        20,
        reporter="comerciante",
        steps=(Step("hide", "supervisora", "Reporte de prueba, sin contenido."),),
    ),
    Story(
        "venta-drogas",
        "02",
        "Venden droga en la esquina del parque, sobre todo de noche; llegan muchas motos.",
        290,
        anonymous=True,
        answers=(("horario", ["tarde", "noche"]), ("cerca-colegio", "si")),
        steps=(
            Step(
                "note",
                "supervisor_02",
                "Punto ya identificado por el cuadrante; información remitida a la SIJIN. No dar "
                "detalles al ciudadano.",
            ),
            Step(
                "status",
                "supervisor_02",
                "Su información fue remitida a la unidad competente. Gracias por avisar.",
                status=S.IN_PROGRESS,
            ),
        ),
    ),
    Story(
        "extorsion",
        "02",
        "Cada semana llegan dos hombres a cobrar «vacuna» a las tiendas de la cuadra.",
        120,
        reporter="comerciante",
        answers=(("medio", "persona"),),
        steps=(
            Step(
                "reply",
                "supervisor_02",
                "No pague. El GAULA atiende en la línea 165 y puede acompañar la denuncia; un "
                "investigador se comunicará con usted.",
            ),
            Step("status", "supervisor_02", status=S.IN_PROGRESS),
        ),
    ),
    Story(
        "violencia-intrafamiliar",
        "01",
        "En la casa de al lado se oyen golpes y gritos casi todas las noches; hay niños pequeños.",
        50,
        anonymous=True,
        answers=(("menores", "si"),),
        steps=(
            Step("note", "comisaria", "Visita de verificación con trabajo social el jueves."),
            Step(
                "status",
                "comisaria",
                "La Comisaría de Familia programó una visita de verificación.",
                status=S.IN_PROGRESS,
            ),
        ),
    ),
    Story(
        "ruido",
        "boundary",
        "Un bar saca los parlantes a la calle hasta la madrugada, justo donde se acaba el barrio.",
        11,
        reporter="lider_comunal",
        answers=(("horario", "madrugada"), ("fuente", "establecimiento")),
    ),
    Story(
        "ruido",
        "any",
        "Fiesta con música a todo volumen todos los fines de semana.",
        95,
        anonymous=True,
        answers=(("horario", "noche"), ("fuente", "vivienda")),
    ),
    Story(
        "rina",
        "02",
        "Pelea entre vecinos por el parqueadero; ya hubo empujones.",
        36,
        reporter="vecino",
        answers=(("hay-armas", "no"),),
    ),
    Story(
        "alumbrado",
        "any",
        "Tres postes apagados en la cuadra desde hace dos semanas; de noche no se ve nada.",
        330,
        reporter="vecino",
        answers=(("numero-poste", "P-10457"),),
        supporters=("lider_comunal", "comerciante"),
    ),
    Story(
        "basuras",
        "any",
        "Dejaron escombros y bolsas de basura en la esquina del parque.",
        190,
        anonymous=True,
        supporters=("ciudadana",),
    ),
    Story(
        "lote-abandonado",
        "any",
        "Lote enmontado y sin cerramiento; de noche se meten a consumir y ya robaron ahí.",
        480,
        reporter="lider_comunal",
    ),
    Story(
        "parque-mal-estado",
        "any",
        "Los columpios del parque están rotos y el pasto está muy alto.",
        380,
        anonymous=True,
    ),
    Story(
        "camara-danada",
        "any",
        "La cámara de la esquina de la plaza está caída desde hace días.",
        240,
        reporter="comerciante",
        steps=(
            Step("reply", "operadora", "Gracias. El equipo técnico revisará la cámara."),
            Step(
                "status",
                "operadora",
                "El equipo técnico reinstaló la cámara y quedó funcionando.",
                status=S.RESOLVED,
            ),
        ),
    ),
    Story(
        "amenazas",
        "address",
        "Dejaron un panfleto con amenazas contra el presidente de la junta de acción comunal.",
        60,
        reporter="lider_comunal",
        address="Salón comunal, Calle 12 # 8-40",
        steps=(
            Step(
                "reroute",
                "admin_policia",
                "La dirección queda en la jurisdicción de la estación de la localidad 02.",
                target=station_slug("02"),
            ),
        ),
    ),
    Story(
        "lesiones",
        "any",
        "A la salida de un bar golpearon a un muchacho; quedó herido en la cara.",
        19,
        anonymous=True,
        answers=(("cuando", None),),
    ),
    Story(
        "acoso-sexual",
        "01",
        "Un hombre en bicicleta persigue a las estudiantes a la salida del colegio y les dice "
        "cosas.",
        100,
        anonymous=True,
        steps=(
            Step(
                "reply",
                "supervisora",
                "Gracias por avisar. Esta semana habrá presencia policial a la hora de salida "
                "del colegio.",
            ),
        ),
    ),
    Story(
        "visibilidad",
        "any",
        "Los arbustos del separador tapan toda la vista y ahí se esconden para robar.",
        170,
        reporter="ciudadana",
    ),
    Story(
        "consumo-espacio-publico",
        "02",
        "Grupo consumiendo alcohol y marihuana en el parque infantil todas las tardes.",
        75,
        anonymous=True,
    ),
)


# --- Placing the script on the map -------------------------------------------------------------

BOUNDARY_NUDGE_KM = 0.003  # 3 m inside one locality: within routing's 10 m of the border
CHANNELS = (Report.Channel.WEB, Report.Channel.APP)


@dataclass(frozen=True)
class ReportPlan:
    story: Story
    lon: float | None
    lat: float | None
    address: str
    channel: str


def to_km(geometry: shapely.Geometry) -> shapely.Geometry:
    """Degrees back to the generator's kilometre grid (the inverse of ``shapes.to_degrees``)."""

    def convert(lonlat: np.ndarray) -> np.ndarray:
        x = (lonlat[:, 0] - CENTRE_LON) * KM_PER_DEG_LON
        y = (lonlat[:, 1] - CENTRE_LAT) * KM_PER_DEG_LAT
        return np.column_stack([x, y])

    return shapely.transform(geometry, convert)


def boundary_point(localities: Mapping[str, Polygon]) -> Point:
    """A point 3 m inside the longest border between two localities (kilometre grid)."""
    best: tuple[float, str, shapely.Geometry] | None = None
    codes = sorted(localities)
    for i, first in enumerate(codes):
        for second in codes[i + 1 :]:
            border = localities[first].intersection(localities[second])
            if border.length and (best is None or border.length > best[0]):
                best = (border.length, first, border)
    assert best is not None, "the demo city has neighbouring localities"
    _length, code, border = best
    middle = shapely.line_merge(border).interpolate(0.5, normalized=True)
    inside = localities[code].representative_point()
    distance = middle.distance(inside)
    return Point(
        middle.x + (inside.x - middle.x) * BOUNDARY_NUDGE_KM / distance,
        middle.y + (inside.y - middle.y) * BOUNDARY_NUDGE_KM / distance,
    )


def plan_reports(seed: int, demo: DemoCity) -> list[ReportPlan]:
    """Where each story happens, drawn from ``seed``: same seed, same places."""
    rng = random.Random(f"reports-{seed}")
    localities = {area.code: to_km(area.geometry) for area in demo.localities}
    streets = StreetGrid(*to_km(demo.outline).bounds)
    plans = []
    for story in STORIES:
        channel = rng.choice(CHANNELS)
        if story.where == "address":
            plans.append(ReportPlan(story, None, None, story.address, channel))
            continue
        if story.where == "boundary":
            point = boundary_point(localities)
        else:
            code = rng.choice(sorted(localities)) if story.where == "any" else story.where
            point = point_inside(rng, localities[code], margin=0.25)
        lon, lat = point_to_lon_lat(point)
        plans.append(ReportPlan(story, lon, lat, streets.address(rng, point), channel))
    return plans


# --- Writing it --------------------------------------------------------------------------------

MAX_STEP_GAP = timedelta(hours=8)
PLAYED_FIELDS = [
    "status",
    "assignee",
    "institution",
    "routing_note",
    "outcome",
    "closed_at",
    "is_hidden",
    "hidden_reason",
    "supporters_count",
    "updated_at",
]


@dataclass
class _Scene:
    """What writing one report needs to look up."""

    city: City
    people: Mapping[str, User]
    institutions: Mapping[str, Institution]
    categories: Mapping[str, Category]


def _answers(story: Story, category: Category, created: datetime) -> dict[str, Any]:
    given = dict(story.answers)
    if "cuando" in given:
        given["cuando"] = (created - timedelta(hours=1)).isoformat(timespec="minutes")
    return check_answers(category, given)


def _new_report(scene: _Scene, plan: ReportPlan, key: str, created: datetime) -> Report:
    story = plan.story
    category = scene.categories[story.code]
    has_point = plan.lon is not None
    found = locate(scene.city, lon=plan.lon, lat=plan.lat) if has_point else []
    route = route_report(scene.city, category, found, lon=plan.lon, lat=plan.lat)
    reporter = scene.people.get(story.reporter)
    neighbourhood = next((t for t in found if t.layer.kind == Layer.Kind.NEIGHBOURHOOD), None)
    report = Report.objects.create(
        idempotency_key=key,
        city=scene.city,
        category=category,
        status=S.SOS if category.urgent else S.RECEIVED,
        is_urgent=category.urgent,
        channel=plan.channel,
        description=story.description,
        answers=_answers(story, category, created),
        lon=plan.lon,
        lat=plan.lat,
        h3_cell=h3_cell(plan.lon, plan.lat) if has_point else "",
        address=plan.address,
        locality=locality_of(found),
        neighbourhood=neighbourhood,
        institution=route.institution,
        routing_note=route.note,
        is_anonymous=story.anonymous,
        reporter=reporter,
        contact_name=reporter.get_full_name() if reporter else "",
        created_at=created,
        updated_at=created,
    )
    ReportEvent.objects.create(
        report=report,
        kind=ReportEvent.Kind.CREATED,
        status=report.status,
        institution=route.institution,
        created_at=created,
    )
    return report


def _event(report: Report, actor: User, when: datetime, **fields: Any) -> None:
    ReportEvent.objects.create(report=report, author=actor, created_at=when, **fields)
    report.updated_at = when


def _play(scene: _Scene, report: Report, step: Step, when: datetime) -> None:
    """One staff step, with the effects its ``check_*`` action has."""
    actor = scene.people[step.actor]
    kind = ReportEvent.Kind
    if step.kind == "assign":
        report.assignee = scene.people[step.target]
        report.status = S.ASSIGNED if report.status == S.RECEIVED else report.status
        fields = {"kind": kind.ASSIGNED, "status": report.status, "institution": report.institution}
        _event(report, actor, when, **fields)
    elif step.kind in ("reply", "note"):
        visible = step.kind == "reply"
        fields = {"kind": kind.REPLY if visible else kind.NOTE, "public": visible}
        _event(report, actor, when, body=step.text, institution=report.institution, **fields)
    elif step.kind == "status":
        report.status = step.status
        closed = step.status in Report.CLOSED_STATUSES
        report.closed_at = when if closed else None
        report.outcome = step.text if closed else report.outcome
        _event(report, actor, when, kind=kind.STATUS, status=step.status, body=step.text)
    elif step.kind == "reroute":
        report.institution = scene.institutions[step.target]
        report.assignee, report.routing_note = None, step.text
        fields = {"kind": kind.ROUTED, "body": step.text, "institution": report.institution}
        _event(report, actor, when, **fields)
    elif step.kind == "hide":
        report.is_hidden, report.hidden_reason = True, step.text
        _event(report, actor, when, kind=kind.HIDDEN, public=False, body=step.text)
    else:
        raise ValueError(f"unknown demo step {step.kind!r}")


def _support(scene: _Scene, report: Report, story: Story, created: datetime) -> None:
    for number, username in enumerate(story.supporters, start=1):
        when = created + timedelta(hours=5 * number)
        Supporter.objects.create(report=report, user=scene.people[username], created_at=when)
        ReportEvent.objects.create(report=report, kind=ReportEvent.Kind.SUPPORTED, created_at=when)
    report.supporters_count = len(story.supporters)


def do_load_demo_reports(
    city: City,
    *,
    seed: int,
    demo: DemoCity,
    institutions: Mapping[str, Institution],
    now: datetime,
) -> int:
    """Write the placed stories as reports of ``city``, dated back from ``now``."""
    usernames = {s.reporter for s in STORIES} | {u for s in STORIES for u in s.supporters}
    usernames |= {step.actor for s in STORIES for step in s.steps}
    usernames |= {step.target for s in STORIES for step in s.steps if step.kind == "assign"}
    scene = _Scene(
        city=city,
        people={u.username: u for u in User.objects.filter(username__in=usernames)},
        institutions=institutions,
        categories={c.code: c for c in Category.objects.prefetch_related("questions")},
    )
    plans = plan_reports(seed, demo)
    for number, plan in enumerate(plans, start=1):
        created = now - timedelta(hours=plan.story.hours_ago)
        report = _new_report(scene, plan, f"demo-{seed}-{number:03d}", created)
        gap = min(timedelta(hours=plan.story.hours_ago) / (len(plan.story.steps) + 1), MAX_STEP_GAP)
        for position, step in enumerate(plan.story.steps, start=1):
            _play(scene, report, step, created + gap * position)
        _support(scene, report, plan.story, created)
        report.save(update_fields=PLAYED_FIELDS)
    return len(plans)
