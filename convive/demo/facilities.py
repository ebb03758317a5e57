"""The demo city's institutions and the places where people get justice and protection.

Pure data drawn from the seeded ``rng``: ``convive/demo/actions.py`` turns the plans into
``Institution`` and ``JusticeService`` rows. Kinds are the string values of
``Institution.Kind`` and ``JusticeService.Kind`` (checked when the rows are created).

Phone numbers are fictional on purpose: Colombian local numbers never start with 0, and all of
these do (``+57 608 0xx xxxx``, 608 being the Orinoquía's area code).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

from shapely.geometry import Polygon

from convive.core.geo import h3_cell
from convive.demo.shapes import Draft, StreetGrid, point_inside, point_to_lon_lat

EMAIL_DOMAIN = "villa-esperanza.example"

# Institutions every demo city has, by slug; per-locality ones are named by the helpers below.
SECRETARIAT = "secretaria-seguridad"
COMMAND_CENTRE = "c4"
POLICE = "policia-metropolitana"
PROSECUTOR = "fiscalia"
CIVIL_PROTECTION = "gestion-riesgo"
HEALTH = "crue"
BANK_PARTNER = "banco-andino"
MALL_PARTNER = "cc-el-mirador"


def station_slug(locality_code: str) -> str:
    return f"estacion-policia-{locality_code}"


def commissary_slug(locality_code: str) -> str:
    return f"comisaria-familia-{locality_code}"


def mayors_office_slug(locality_code: str) -> str:
    return f"alcaldia-local-{locality_code}"


def justice_house_slug(locality_code: str) -> str:
    return f"casa-justicia-{locality_code}"


OPENING_HOURS = {
    "justice_house": "Lunes a viernes, 7:00 a 16:30; sábados, 8:00 a 12:00",
    "family_commissary": "Lunes a viernes, 7:00 a 16:30",
    "police_station": "24 horas, todos los días",
    "police_post": "24 horas, todos los días",
    "prosecutor": "24 horas, todos los días",
    "victim_care": "Lunes a viernes, 8:00 a 17:00",
}


@dataclass(frozen=True)
class InstitutionPlan:
    slug: str
    name: str
    kind: str  # an Institution.Kind value
    coverage: tuple[str, ...] = ()  # locality codes
    covers_whole_city: bool = False
    parent_slug: str | None = None
    phone: str = ""
    email: str = ""


@dataclass(frozen=True)
class Facility:
    kind: str  # a JusticeService.Kind value
    name: str
    locality_code: str
    institution_slug: str
    address: str
    phone: str
    opening_hours: str
    lon: float
    lat: float
    h3_cell: str


@dataclass(frozen=True)
class JusticeHouseGroup:
    """A Casa de Justicia, in ``host``, serving two or three neighbouring localities."""

    host: str
    codes: tuple[str, ...]


def phone_number(rng: random.Random) -> str:
    return f"+57 608 0{rng.randint(10, 99)} {rng.randint(1000, 9999)}"


def justice_house_groups(rng: random.Random, localities: list[Draft]) -> list[JusticeHouseGroup]:
    """Localities in groups of two or three, neighbours by their angle around the centre."""
    around = sorted(localities, key=lambda d: math.atan2(d.shape.centroid.y, d.shape.centroid.x))
    groups: list[JusticeHouseGroup] = []
    while around:
        left = len(around)
        size = left if left in (2, 3) else 2 if left == 4 else rng.choice([2, 3])
        members, around = around[:size], around[size:]
        host = rng.choice(members)
        groups.append(JusticeHouseGroup(host.code, tuple(sorted(m.code for m in members))))
    return groups


def _plan(
    rng: random.Random,
    slug: str,
    name: str,
    kind: str,
    *,
    coverage: tuple[str, ...] = (),
    covers_whole_city: bool = False,
    parent_slug: str | None = None,
) -> InstitutionPlan:
    return InstitutionPlan(
        slug=slug,
        name=name,
        kind=kind,
        coverage=coverage,
        covers_whole_city=covers_whole_city,
        parent_slug=parent_slug,
        phone=phone_number(rng),
        email=f"{slug}@{EMAIL_DOMAIN}",
    )


# Whole-city institutions: slug, name ({city} is the city's name), kind, parent slug.
_CITYWIDE = (
    (SECRETARIAT, "Secretaría de Seguridad, Convivencia y Justicia", "security_secretariat", None),
    (
        COMMAND_CENTRE,
        "Centro de Comando, Control, Comunicaciones y Cómputo (C4)",
        "command_centre",
        SECRETARIAT,
    ),
    (POLICE, "Policía Metropolitana de {city}", "police", None),
    (PROSECUTOR, "Fiscalía General de la Nación, Seccional {city}", "prosecutor", None),
    (
        CIVIL_PROTECTION,
        "Instituto de Gestión del Riesgo y Cambio Climático",
        "civil_protection",
        None,
    ),
    (HEALTH, "Centro Regulador de Urgencias y Emergencias (CRUE)", "health", None),
)


def _citywide_institutions(rng: random.Random, city_name: str) -> list[InstitutionPlan]:
    return [
        _plan(
            rng, slug, name.format(city=city_name), kind, covers_whole_city=True, parent_slug=parent
        )
        for slug, name, kind, parent in _CITYWIDE
    ]


def _locality_institutions(rng: random.Random, locality: Draft) -> list[InstitutionPlan]:
    code, name = locality.code, locality.name
    police = f"Estación de Policía {name}"
    return [
        _plan(rng, station_slug(code), police, "police", coverage=(code,), parent_slug=POLICE),
        _plan(
            rng,
            commissary_slug(code),
            f"Comisaría de Familia {name}",
            "family_commissary",
            coverage=(code,),
        ),
        _plan(
            rng,
            mayors_office_slug(code),
            f"Alcaldía Local de {name}",
            "mayors_office",
            coverage=(code,),
        ),
    ]


def plan_institutions(
    rng: random.Random, localities: list[Draft], groups: list[JusticeHouseGroup], city_name: str
) -> list[InstitutionPlan]:
    """Secretariat, C4, police (one station per locality), prosecutor, justice houses, family
    commissaries, local mayors' offices, civil protection, health and two camera partners."""
    names = {loc.code: loc.name for loc in localities}
    plans = _citywide_institutions(rng, city_name)
    for locality in localities:
        plans += _locality_institutions(rng, locality)
    plans += [
        _plan(
            rng,
            justice_house_slug(g.host),
            f"Casa de Justicia {names[g.host]}",
            "justice_house",
            coverage=g.codes,
            parent_slug=SECRETARIAT,
        )
        for g in groups
    ]
    codes = [loc.code for loc in localities]
    bank_coverage = tuple(sorted(rng.sample(codes, 2)))
    plans.append(_plan(rng, BANK_PARTNER, "Banco Andino", "camera_partner", coverage=bank_coverage))
    mall_coverage = (rng.choice(codes),)
    plans.append(
        _plan(
            rng,
            MALL_PARTNER,
            "Centro Comercial El Mirador",
            "camera_partner",
            coverage=mall_coverage,
        )
    )
    return plans


@dataclass(frozen=True)
class _Placer:
    rng: random.Random
    streets: StreetGrid

    def place(
        self, kind: str, name: str, region: Polygon, locality_code: str, institution_slug: str
    ) -> Facility:
        # Offices stand towards the middle of their locality; CAI posts anywhere in their barrio.
        margin = 0.15 if kind == "police_post" else 0.8
        point = point_inside(self.rng, region, margin=margin)
        lon, lat = point_to_lon_lat(point)
        return Facility(
            kind=kind,
            name=name,
            locality_code=locality_code,
            institution_slug=institution_slug,
            address=self.streets.address(self.rng, point),
            phone=phone_number(self.rng),
            opening_hours=OPENING_HOURS[kind],
            lon=lon,
            lat=lat,
            h3_cell=h3_cell(lon, lat),
        )


def _locality_facilities(
    placer: _Placer, locality: Draft, neighbourhoods: list[Draft]
) -> list[Facility]:
    code, name, shape = locality.code, locality.name, locality.shape
    facilities = [
        placer.place(
            "police_station", f"Estación de Policía {name}", shape, code, station_slug(code)
        ),
        placer.place(
            "family_commissary", f"Comisaría de Familia {name}", shape, code, commissary_slug(code)
        ),
    ]
    for barrio in placer.rng.sample(neighbourhoods, placer.rng.randint(2, 4)):
        # Inside the barrio and well inside the locality, whatever the barrio's shape.
        region = barrio.shape.intersection(shape.buffer(-0.15))
        region = region if region.geom_type == "Polygon" else shape
        facilities.append(
            placer.place("police_post", f"CAI {barrio.name}", region, code, station_slug(code))
        )
    return facilities


def plan_facilities(
    rng: random.Random,
    localities: list[Draft],
    neighbourhoods: dict[str, list[Draft]],
    groups: list[JusticeHouseGroup],
    streets: StreetGrid,
) -> list[Facility]:
    """One police station, family commissary and 2 to 4 CAI posts per locality, a Casa de Justicia
    per group of localities, one URI (prosecutor) and one victim-care centre."""
    placer = _Placer(rng, streets)
    by_code = {loc.code: loc for loc in localities}
    facilities = [
        placer.place(
            "justice_house",
            f"Casa de Justicia {by_code[g.host].name}",
            by_code[g.host].shape,
            g.host,
            justice_house_slug(g.host),
        )
        for g in groups
    ]
    for locality in localities:
        facilities += _locality_facilities(placer, locality, neighbourhoods[locality.code])
    uri, victims = rng.sample(localities, 2)
    facilities.append(
        placer.place(
            "prosecutor",
            f"Unidad de Reacción Inmediata (URI) {uri.name}",
            uri.shape,
            uri.code,
            PROSECUTOR,
        )
    )
    facilities.append(
        placer.place(
            "victim_care",
            f"Centro de Atención Integral a Víctimas {victims.name}",
            victims.shape,
            victims.code,
            SECRETARIAT,
        )
    )
    return facilities
