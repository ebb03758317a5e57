"""The generator alone (no database): determinism, shapes, names, populations, facilities."""

import re
from collections import Counter

import pytest
import shapely
from shapely.geometry import Point

from convive.core.geo import h3_cell
from convive.demo.generate import (
    CITY_NAME,
    DEFAULT_SEED,
    MAX_POPULATION,
    MIN_POPULATION,
    DemoCity,
    generate_city,
)
from convive.demo.shapes import CENTRE_LAT, KM_PER_DEG_LAT, KM_PER_DEG_LON

SEEDS = [DEFAULT_SEED, 1, 7, 12345]


def slack(shape) -> float:
    """The area that rounding coordinates to 6 decimals (0.1 m) may add or remove along a border:
    a strip 2e-6 degrees wide (about 0.2 m) along the whole of it."""
    return 2e-6 * shape.length


@pytest.fixture(scope="module", params=SEEDS)
def city(request) -> DemoCity:
    return generate_city(request.param)


def test_same_seed_gives_byte_identical_output():
    assert generate_city(DEFAULT_SEED).to_json() == generate_city(DEFAULT_SEED).to_json()


def test_different_seeds_give_different_cities():
    assert generate_city(1).to_json() != generate_city(2).to_json()


def test_outline_is_about_15_by_12_km_near_the_documented_centre(city):
    min_lon, min_lat, max_lon, max_lat = city.outline.bounds
    width_km = (max_lon - min_lon) * KM_PER_DEG_LON
    height_km = (max_lat - min_lat) * KM_PER_DEG_LAT
    assert 12 < width_km < 18
    assert 9.5 < height_km < 14.5
    assert abs(city.outline.centroid.y - CENTRE_LAT) < 0.05
    assert city.outline.is_valid


def test_localities_tile_the_outline_without_overlapping(city):
    shapes = [area.geometry for area in city.localities]
    assert 6 <= len(shapes) <= 8
    overlap = sum(a.intersection(b).area for i, a in enumerate(shapes) for b in shapes[i + 1 :])
    assert overlap < slack(city.outline)
    union = shapely.union_all(shapes)
    assert union.symmetric_difference(city.outline).area < slack(city.outline)


def test_neighbourhoods_nest_in_their_locality_and_tile_it(city):
    by_parent: dict[str, list] = {}
    for barrio in city.neighbourhoods:
        by_parent.setdefault(barrio.parent_code, []).append(barrio.geometry)
    for locality in city.localities:
        barrios = by_parent[locality.code]
        assert 6 <= len(barrios) <= 12
        for shape in barrios:
            assert shape.difference(locality.geometry).area < slack(shape)
        union = shapely.union_all(barrios)
        assert union.symmetric_difference(locality.geometry).area < slack(locality.geometry)


def test_quadrants_cover_the_city_and_cross_neighbourhood_borders(city):
    quadrants = [area.geometry for area in city.quadrants]
    union = shapely.union_all(quadrants)
    assert union.symmetric_difference(city.outline).area < slack(city.outline)
    crossing = 0
    for quadrant in quadrants:
        inside = [
            b
            for b in city.neighbourhoods
            if b.geometry.intersection(quadrant).area > 0.05 * quadrant.area
        ]
        crossing += len(inside) >= 2
    assert crossing > len(quadrants) / 2


def test_every_shape_is_one_valid_polygon(city):
    for layer in city.layers.values():
        for area in layer:
            assert area.geometry.geom_type == "Polygon", area.code
            assert area.geometry.is_valid, area.code


def test_names_are_unique_invented_and_spanish(city):
    for layer in (city.localities, city.neighbourhoods, city.quadrants):
        names = [area.name for area in layer]
        assert len(set(names)) == len(names)
    all_names = {a.name for a in city.localities} | {a.name for a in city.neighbourhoods}
    assert CITY_NAME not in all_names
    assert all(re.fullmatch(r"[A-ZÁÉÍÓÚÑ][\w ]+", name) for name in all_names)


def test_populations_are_plausible_and_add_up(city):
    for barrio in city.neighbourhoods:
        assert MIN_POPULATION <= barrio.population <= MAX_POPULATION
    for locality in city.localities:
        children = [b.population for b in city.neighbourhoods if b.parent_code == locality.code]
        assert locality.population == sum(children)
    assert all(quadrant.population is None for quadrant in city.quadrants)


def test_facilities_of_each_kind(city):
    localities = len(city.localities)
    kinds = Counter(facility.kind for facility in city.facilities)
    assert kinds["police_station"] == localities
    assert kinds["family_commissary"] == localities
    assert 2 * localities <= kinds["police_post"] <= 4 * localities
    assert kinds["prosecutor"] == 1
    assert kinds["victim_care"] == 1
    posts = Counter(f.locality_code for f in city.facilities if f.kind == "police_post")
    assert all(2 <= count <= 4 for count in posts.values())


def test_one_justice_house_for_every_two_or_three_localities(city):
    houses = [plan for plan in city.institutions if plan.kind == "justice_house"]
    covered = [code for plan in houses for code in plan.coverage]
    assert all(len(plan.coverage) in (2, 3) for plan in houses)
    assert sorted(covered) == sorted(area.code for area in city.localities)
    facilities = [f for f in city.facilities if f.kind == "justice_house"]
    assert {f.institution_slug for f in facilities} == {plan.slug for plan in houses}
    for facility, plan in zip(facilities, houses, strict=True):
        assert facility.locality_code in plan.coverage


def test_facilities_stand_inside_their_locality_with_address_phone_and_cell(city):
    localities = {area.code: area.geometry for area in city.localities}
    slugs = {plan.slug for plan in city.institutions}
    for facility in city.facilities:
        assert localities[facility.locality_code].contains(Point(facility.lon, facility.lat))
        assert facility.h3_cell == h3_cell(facility.lon, facility.lat)
        assert re.fullmatch(r"(Calle|Carrera) \d+ # \d+-\d{2}", facility.address)
        assert re.fullmatch(r"\+57 608 0\d{2} \d{4}", facility.phone)
        assert facility.opening_hours
        assert facility.institution_slug in slugs


def test_institution_slugs_are_unique_and_parents_come_first(city):
    seen: set[str] = set()
    for plan in city.institutions:
        assert plan.slug not in seen
        assert plan.parent_slug is None or plan.parent_slug in seen
        seen.add(plan.slug)
