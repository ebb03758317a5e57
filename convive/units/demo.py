"""A fleet for the demo city: about 40 units, placed and timed from a seed.

Per locality, its police station's two patrol cars, a motorcycle and a quadrant foot patrol (homed
in a police quadrant whose centre lies in the locality); city-wide, two women's-care patrol cars of
the metropolitan police, five ambulances of the emergency health service (CRUE), three fire engines
and two civil-protection crews of the risk-management institute (the demo city has no separate
fire service). Most units are available with a fix a minute old; a few are busy, one is out of
service and two have a position half an hour old, so that the console shows every case.

Call signs and stored text are in Spanish, as the demo city is. The demo loader calls
``demo_units`` after the institutions exist; nothing here is audited one by one (the load is).
"""

from __future__ import annotations

import random
from collections.abc import Mapping
from datetime import datetime, timedelta

import shapely
from django.utils import timezone

from convive.institutions.models import Institution
from convive.territories.models import City, Territory
from convive.units.actions import do_create_units
from convive.units.models import DEFAULT_CAPABILITIES, Capability, Unit, UnitPosition

LOCALITY_LAYER = "locality"
QUADRANT_LAYER = "quadrant"
# Institution slugs of the demo city (``convive/demo/facilities.py``).
POLICE = "policia-metropolitana"
CIVIL_PROTECTION = "gestion-riesgo"
HEALTH = "crue"


def station_slug(locality_code: str) -> str:
    return f"estacion-policia-{locality_code}"


def _point_in(rng: random.Random, territory: Territory) -> tuple[float, float]:
    """A random point inside the territory (its centroid if the draws keep missing)."""
    geometry = territory.geometry
    for _attempt in range(200):
        lon = rng.uniform(territory.min_lon, territory.max_lon)
        lat = rng.uniform(territory.min_lat, territory.max_lat)
        if shapely.contains_xy(geometry, lon, lat):
            return round(lon, 6), round(lat, 6)
    return territory.centroid_lon, territory.centroid_lat


def _quadrant_of(locality: Territory, quadrants: list[Territory]) -> Territory:
    inside = [
        q
        for q in quadrants
        if locality.geometry.contains(shapely.Point(q.centroid_lon, q.centroid_lat))
    ]
    return inside[0] if inside else locality


def _plan(
    institutions: Mapping[str, Institution],
    localities: list[Territory],
    quadrants: list[Territory],
    rng: random.Random,
) -> list[tuple[Institution, str, str, Territory, tuple[str, ...]]]:
    """(institution, call sign, kind, home, capabilities) of every unit, in creation order."""
    kind = Unit.Kind
    police = institutions[POLICE]
    plan = []
    for locality in localities:
        code = locality.code
        station = institutions.get(station_slug(code), police)
        quadrant = _quadrant_of(locality, quadrants)
        plan += [
            (station, f"PAT-{code}-1", kind.PATROL_CAR, locality, ()),
            (station, f"PAT-{code}-2", kind.PATROL_CAR, locality, ()),
            (station, f"MOT-{code}-1", kind.MOTORCYCLE, locality, ()),
            (station, f"CUA-{code}-{quadrant.code}", kind.FOOT_PATROL, quadrant, ()),
        ]
    women_care = (Capability.PATROL, Capability.WOMEN_CARE)
    for number, home in enumerate(rng.sample(localities, 2), start=1):
        plan.append((police, f"MUJ-{number}", kind.PATROL_CAR, home, women_care))
    for number in range(1, 6):
        plan.append(
            (institutions[HEALTH], f"AMB-{number:02d}", kind.AMBULANCE, rng.choice(localities), ())
        )
    rescue = institutions[CIVIL_PROTECTION]
    for number in range(1, 4):
        plan.append((rescue, f"BOM-{number}", kind.FIRE_ENGINE, rng.choice(localities), ()))
    for number in range(1, 3):
        plan.append((rescue, f"GR-{number}", kind.CIVIL_PROTECTION, rng.choice(localities), ()))
    return plan


def _situation(rng: random.Random, number: int) -> tuple[str, int, timedelta]:
    """Status, incidents in hand and age of the last fix of the ``number``-th unit."""
    status = Unit.Status
    if number in (3, 17):
        return status.EN_ROUTE, 1, timedelta(seconds=rng.uniform(5, 60))
    if number in (6, 22):
        return status.ON_SCENE, 1, timedelta(seconds=rng.uniform(5, 60))
    if number == 11:
        return status.OUT_OF_SERVICE, 0, timedelta(hours=3)
    if number in (9, 26):
        return status.AVAILABLE, 0, timedelta(minutes=rng.uniform(25, 40))
    return status.AVAILABLE, 0, timedelta(seconds=rng.uniform(5, 90))


def demo_units(
    city: City, institutions: Mapping[str, Institution], seed: int, *, now: datetime | None = None
) -> list[Unit]:
    """Create the demo fleet of ``city`` (the demo city, loaded) and return it.

    ``institutions``: the city's institutions by slug, as the demo loader created them."""
    now = now or timezone.now()
    rng = random.Random(f"units-{seed}")  # noqa: S311 (demo data, not secrets)
    territories = Territory.objects.filter(city=city).order_by("code")
    localities = list(territories.filter(layer__slug=LOCALITY_LAYER))
    quadrants = list(territories.filter(layer__slug=QUADRANT_LAYER))
    units, positions = [], []
    for number, (institution, call_sign, kind, home, capabilities) in enumerate(
        _plan(institutions, localities, quadrants, rng)
    ):
        status, load, age = _situation(rng, number)
        lon, lat = _point_in(rng, home)
        unit = Unit(
            institution=institution,
            call_sign=call_sign,
            kind=kind,
            home_territory=home,
            capabilities=list(capabilities or DEFAULT_CAPABILITIES[kind]),
            status=status,
            current_load=load,
            last_lon=lon,
            last_lat=lat,
            last_position_at=now - age,
        )
        units.append(unit)
        positions.append(
            UnitPosition(
                unit=unit,
                lon=lon,
                lat=lat,
                recorded_at=now - age,
                received_at=now - age,
                source=UnitPosition.Source.API,
                speed_kmh=0.0 if status == Unit.Status.ON_SCENE else round(rng.uniform(0, 40), 1),
            )
        )
    return do_create_units(units, positions)
