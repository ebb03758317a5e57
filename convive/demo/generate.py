"""Villa Esperanza: a fictional Latin American city, generated from a seed.

Everything comes from one ``random.Random(seed)``, so the same seed gives byte-identical output
(``DemoCity.to_json``) and a different seed a different city. Nothing here touches the database:
``convive/demo/actions.py`` loads the result through the territory importer.

Placement: the city is centred at 71.20° W, 5.20° N, on the savannas of Casanare (Colombian
Orinoquía), where no town stands; the nearest real towns (Orocué, Trinidad, Santa Rosalía) are
some 40 to 50 km away. Shapes are built on a flat kilometre grid around that centre
(``convive/demo/shapes.py``) and converted to degrees at the end, rounded to 6 decimals.

Algorithm:

1. The outline is an ellipse of 15 x 12 km whose radius is perturbed by a few random harmonics
   and a little per-vertex noise.
2. Localities (6 to 8) are Voronoi cells of well-spread random points, evened out by Lloyd's
   relaxation and clipped to the outline; neighbourhoods (6 to 12 per locality) are the same
   construction inside each locality, so that they nest exactly.
3. Police quadrants are a 1.5 km grid with a random offset, clipped to the outline, slivers at
   the edge merged into a neighbour. They cross neighbourhood and locality borders, as real
   quadrants do.
4. Institutions and facilities (``convive/demo/facilities.py``) are placed inside the right
   locality, with addresses read off a Colombian street grid.
"""

from __future__ import annotations

import json
import random
from dataclasses import asdict, dataclass
from typing import Any

import shapely
from shapely.geometry import mapping

from convive.demo.facilities import (
    Facility,
    InstitutionPlan,
    justice_house_groups,
    plan_facilities,
    plan_institutions,
)
from convive.demo.names import NameDrawer
from convive.demo.shapes import (
    PRECISION,
    Draft,
    StreetGrid,
    outline,
    partition,
    quadrant_grid,
    to_degrees,
)

CITY_SLUG = "villa-esperanza"
CITY_NAME = "Villa Esperanza"
COUNTRY_CODE = "CO"
DEFAULT_SEED = 2026

POPULATION_SOURCE = "Generated demo data"
POPULATION_YEAR = 2024
MIN_POPULATION, MAX_POPULATION = 3_000, 40_000

# Property names of the generated features, as a Spanish-language open-data portal names them.
CODE_FIELD = "codigo"
NAME_FIELD = "nombre"
POPULATION_FIELD = "poblacion"
PARENT_FIELD = "localidad"


@dataclass(frozen=True)
class LayerSpec:
    slug: str
    name: str
    kind: str  # a Layer.Kind value
    parent_slug: str | None = None


LOCALITY = LayerSpec("locality", "Localidades", "locality")
NEIGHBOURHOOD = LayerSpec("neighbourhood", "Barrios", "neighbourhood", parent_slug="locality")
QUADRANT = LayerSpec("quadrant", "Cuadrantes de policía", "quadrant")
LAYERS = (LOCALITY, NEIGHBOURHOOD, QUADRANT)


def geojson(geometry: shapely.Geometry) -> dict[str, Any]:
    """A GeoJSON geometry with plain lists, coordinates rounded to ``PRECISION`` decimals."""

    def clean(value: Any) -> Any:
        if isinstance(value, tuple | list):
            return [clean(item) for item in value]
        return round(value, PRECISION) if isinstance(value, float) else value

    return {key: clean(value) for key, value in mapping(geometry).items()}


@dataclass(frozen=True)
class Area:
    """One generated territory, in degrees (WGS84)."""

    code: str
    name: str
    geometry: shapely.Geometry
    population: int | None = None
    parent_code: str | None = None

    def feature(self) -> dict[str, Any]:
        properties: dict[str, Any] = {CODE_FIELD: self.code, NAME_FIELD: self.name}
        if self.population is not None:
            properties[POPULATION_FIELD] = self.population
        if self.parent_code is not None:
            properties[PARENT_FIELD] = self.parent_code
        return {"type": "Feature", "properties": properties, "geometry": geojson(self.geometry)}


@dataclass(frozen=True)
class DemoCity:
    seed: int
    outline: shapely.Geometry
    layers: dict[str, tuple[Area, ...]]
    institutions: tuple[InstitutionPlan, ...]
    facilities: tuple[Facility, ...]

    @property
    def localities(self) -> tuple[Area, ...]:
        return self.layers[LOCALITY.slug]

    @property
    def neighbourhoods(self) -> tuple[Area, ...]:
        return self.layers[NEIGHBOURHOOD.slug]

    @property
    def quadrants(self) -> tuple[Area, ...]:
        return self.layers[QUADRANT.slug]

    def collection(self, layer_slug: str) -> dict[str, Any]:
        """The layer as a GeoJSON FeatureCollection (RFC 7946), ready for the importer."""
        features = [area.feature() for area in self.layers[layer_slug]]
        return {"type": "FeatureCollection", "features": features}

    def to_json(self) -> str:
        """Everything generated, as canonical JSON: equal seeds give equal bytes."""
        document = {
            "seed": self.seed,
            "city": {"slug": CITY_SLUG, "name": CITY_NAME, "country": COUNTRY_CODE},
            "outline": geojson(self.outline),
            "layers": {spec.slug: self.collection(spec.slug) for spec in LAYERS},
            "institutions": [asdict(plan) for plan in self.institutions],
            "facilities": [asdict(facility) for facility in self.facilities],
        }
        return json.dumps(document, sort_keys=True, ensure_ascii=False, separators=(",", ":"))


def _population(rng: random.Random, area_km2: float, density: float) -> int:
    people = area_km2 * density * rng.uniform(0.5, 1.5)
    return int(round(min(max(people, MIN_POPULATION), MAX_POPULATION), -1))


def _neighbourhoods(rng: random.Random, locality: Draft, names: NameDrawer) -> list[Draft]:
    """The barrios of one locality; sets the locality's population to their sum."""
    density = rng.uniform(3_000, 10_000)  # people per km², one figure per locality
    shapes = partition(rng, locality.shape, rng.randint(6, 12))
    drafts = [
        Draft(
            code=f"{locality.code}{j:02d}",
            name=names.draw(),
            shape=shape,
            population=_population(rng, shape.area, density),
            parent_code=locality.code,
        )
        for j, shape in enumerate(shapes, start=1)
    ]
    locality.population = sum(d.population or 0 for d in drafts)
    return drafts


def _areas(drafts: list[Draft]) -> tuple[Area, ...]:
    return tuple(
        Area(d.code, d.name, to_degrees(d.shape), d.population, d.parent_code) for d in drafts
    )


def generate_city(seed: int = DEFAULT_SEED) -> DemoCity:
    """The demo city of ``seed``: outline, three layers, institutions and facilities."""
    rng = random.Random(seed)
    names = NameDrawer(rng)
    shape = outline(rng)
    localities = [
        Draft(f"{i:02d}", names.plain(), cell)
        for i, cell in enumerate(partition(rng, shape, rng.randint(6, 8)), start=1)
    ]
    barrios = {loc.code: _neighbourhoods(rng, loc, names) for loc in localities}
    quadrants = [
        Draft(f"{i:02d}", f"Cuadrante {i}", cell)
        for i, cell in enumerate(quadrant_grid(rng, shape), start=1)
    ]
    groups = justice_house_groups(rng, localities)
    institutions = plan_institutions(rng, localities, groups, CITY_NAME)
    facilities = plan_facilities(rng, localities, barrios, groups, StreetGrid(*shape.bounds))
    return DemoCity(
        seed=seed,
        outline=to_degrees(shape),
        layers={
            LOCALITY.slug: _areas(localities),
            NEIGHBOURHOOD.slug: _areas([b for loc in localities for b in barrios[loc.code]]),
            QUADRANT.slug: _areas(quadrants),
        },
        institutions=tuple(institutions),
        facilities=tuple(facilities),
    )
