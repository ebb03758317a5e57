"""Geometry helpers: area on the ellipsoid, repair, parsing."""

from __future__ import annotations

import math

import pytest
import shapely
from shapely.geometry import MultiPolygon, box

from convive.territories.geometry import (
    AUTHALIC_RADIUS_M,
    GeometryError,
    area_km2,
    parse_polygonal,
    repair,
    territory_columns,
)


def test_the_authalic_radius_of_wgs84():
    assert pytest.approx(6_371_007.18, abs=0.01) == AUTHALIC_RADIUS_M


def test_area_of_a_one_degree_cell_at_the_equator():
    # On the WGS84 ellipsoid a one-degree cell at the equator measures 12,308.8 km².
    assert area_km2(box(0, 0, 1, 1)) == pytest.approx(12_308.8, rel=1e-4)


def test_area_shrinks_with_latitude_and_holes():
    square = box(0, 60, 1, 61)
    # A small cell's area goes as cos φ · (1 - e² sin² φ)⁻² on the ellipsoid (M · N · cos φ).
    e2 = 0.00669437999014

    def factor(lat: float) -> float:
        phi = math.radians(lat)
        return math.cos(phi) / (1 - e2 * math.sin(phi) ** 2) ** 2

    expected = area_km2(box(0, 0, 1, 1)) * factor(60.5) / factor(0.5)
    assert area_km2(square) == pytest.approx(expected, rel=1e-3)
    with_hole = shapely.Polygon(
        square.exterior.coords, [box(0.25, 60.25, 0.75, 60.75).exterior.coords]
    )
    assert area_km2(with_hole) == pytest.approx(area_km2(square) * 0.75, rel=0.01)
    assert area_km2(MultiPolygon([square, box(2, 60, 3, 61)])) == pytest.approx(
        2 * area_km2(square)
    )


def test_area_does_not_depend_on_ring_orientation():
    ring = list(box(-74, 4, -73, 5).exterior.coords)
    assert area_km2(shapely.Polygon(ring)) == pytest.approx(area_km2(shapely.Polygon(ring[::-1])))


def test_repair_keeps_valid_geometry_and_orients_it():
    clockwise = shapely.Polygon(list(box(0, 0, 1, 1).exterior.coords)[::-1])
    fixed, reason = repair(clockwise)
    assert reason == ""
    assert fixed.exterior.is_ccw


def test_repair_keeps_only_polygonal_parts():
    # A square with a spike: make_valid returns the square and a line.
    spiky = shapely.Polygon([(0, 0), (1, 0), (1, 1), (1, 2), (1, 1), (0, 1), (0, 0)])
    fixed, reason = repair(spiky)
    assert reason
    assert fixed.geom_type == "Polygon"
    assert fixed.area == pytest.approx(1.0)


def test_a_multipolygon_stays_a_multipolygon():
    single = MultiPolygon([box(0, 0, 1, 1)])
    assert repair(single)[0].geom_type == "MultiPolygon"


def test_parse_drops_the_third_dimension():
    geometry = parse_polygonal(
        {"type": "Polygon", "coordinates": [[[0, 0, 5], [1, 0, 5], [1, 1, 5], [0, 0, 5]]]}
    )
    assert not geometry.has_z


@pytest.mark.parametrize(
    "coordinates",
    [[[[0, 0], [1, 0], [float("nan"), 1], [0, 0]]], [[[0, 0], [1, 0], [1, 91], [0, 0]]]],
)
def test_parse_refuses_coordinates_that_are_not_degrees(coordinates):
    with pytest.raises(GeometryError):
        parse_polygonal({"type": "Polygon", "coordinates": coordinates})


def test_columns_hold_a_point_inside_even_for_a_c_shape():
    c_shape = shapely.Polygon([(0, 0), (3, 0), (3, 1), (1, 1), (1, 2), (3, 2), (3, 3), (0, 3)])
    columns = territory_columns(c_shape)
    point = shapely.Point(columns["centroid_lon"], columns["centroid_lat"])
    assert c_shape.contains(point)
    assert not c_shape.contains(c_shape.centroid)  # why the centroid is not used
    assert shapely.from_wkb(columns["geometry_wkb"]).equals(c_shape)
