"""Point-in-polygon: the boundary rule of queries.py, batches, and index rebuilds."""

from __future__ import annotations

import numpy as np
import pytest

from convive.territories.models import Layer
from convive.territories.queries import (
    city_index,
    list_children,
    list_siblings,
    locate,
    locate_ids,
    locate_many,
)
from convive.territories.tests.factories import CityFactory, LayerFactory, TerritoryFactory

pytestmark = pytest.mark.django_db

# Four unit squares meeting at (-73, 5). Codes are deliberately not in insertion order, so that the
# tie-break by lowest code cannot pass by accident.
#   C | D          lat 5..6
#   --+--
#   B | A          lat 4..5
#  lon -74..-73..-72
SQUARES = {
    "B": (-74.0, 4.0, -73.0, 5.0),
    "A": (-73.0, 4.0, -72.0, 5.0),
    "D": (-73.0, 5.0, -72.0, 6.0),
    "C": (-74.0, 5.0, -73.0, 6.0),
}


@pytest.fixture
def grid():
    city = CityFactory(slug="grid", name="Grid")
    layer = LayerFactory(city=city, slug="cells", name="Cells")
    for code, bounds in SQUARES.items():
        TerritoryFactory(layer=layer, code=code, name=f"Cell {code}", bounds=bounds)
    return city


def codes_at(city, lon: float, lat: float) -> list[str]:
    return [t.code for t in locate(city, lon=lon, lat=lat)]


def test_an_interior_point_is_in_its_square(grid):
    assert codes_at(grid, -73.5, 4.5) == ["B"]
    assert codes_at(grid, -72.5, 5.5) == ["D"]


def test_a_point_on_a_shared_edge_goes_to_the_lowest_code(grid):
    assert codes_at(grid, -73.0, 4.5) == ["A"]  # between B and A
    assert codes_at(grid, -73.5, 5.0) == ["B"]  # between B and C
    assert codes_at(grid, -72.5, 5.0) == ["A"]  # between A and D
    assert codes_at(grid, -73.0, 5.5) == ["C"]  # between C and D


def test_a_point_on_a_shared_vertex_goes_to_the_lowest_code(grid):
    assert codes_at(grid, -73.0, 5.0) == ["A"]  # all four squares meet here


def test_a_point_on_the_outer_boundary_belongs_to_its_only_square(grid):
    assert codes_at(grid, -74.0, 4.5) == ["B"]
    assert codes_at(grid, -72.0, 6.0) == ["D"]  # an outer corner


def test_a_point_outside_every_square_gets_nothing(grid):
    assert codes_at(grid, -71.9, 4.5) == []
    assert codes_at(grid, -73.5, 6.01) == []


def test_interior_wins_over_a_lower_code_that_only_touches(grid):
    # "Z" overlaps B and A across their shared edge: its interior holds points of that edge.
    layer = Layer.objects.get(city=grid, slug="cells")
    TerritoryFactory(layer=layer, code="Z", name="Overlap", bounds=(-73.5, 4.25, -72.5, 4.75))
    assert codes_at(grid, -73.0, 4.5) == ["Z"]  # inside Z, only on the boundary of A and B
    assert codes_at(grid, -73.5, 4.5) == ["B"]  # inside B, on the boundary of Z


def test_a_batch_gives_the_same_answers_as_single_lookups(grid):
    lons = [-73.5, -73.0, -73.0, -74.0, -71.9, -72.5]
    lats = [4.5, 4.5, 5.0, 4.5, 4.5, 5.5]
    ids = locate_ids(grid, lons, lats)["cells"]
    assert ids.dtype == np.int64
    singles = [codes_at(grid, lon, lat) for lon, lat in zip(lons, lats, strict=True)]
    by_id = {t.pk: t.code for t in grid.territories.all()}
    assert [[by_id[i]] if i else [] for i in ids] == singles
    assert locate_many(grid, lons, lats)[4] == {}


def test_every_layer_answers_in_layer_order(world):
    found = locate(world.city, lon=-74.18, lat=4.60)
    assert [(t.layer.slug, t.code) for t in found] == [
        ("locality", "08"),
        ("neighbourhood", "0801"),
    ]


def test_the_index_is_reused_until_the_token_changes(grid):
    first = city_index(grid)
    assert city_index(grid) is first
    TerritoryFactory(
        layer=Layer.objects.get(city=grid), code="E", name="East", bounds=(-72, 4, -71, 5)
    )
    rebuilt = city_index(grid)
    assert rebuilt is not first
    assert codes_at(grid, -71.5, 4.5) == ["E"]


def test_an_empty_city_locates_nothing():
    city = CityFactory(slug="empty")
    assert locate(city, lon=-74, lat=4.6) == []
    assert locate_ids(city, [-74.0], [4.6]) == {}


def test_siblings_share_layer_and_parent(world):
    assert [t.code for t in list_siblings(world.kennedy)] == ["08", "11"]
    assert [t.code for t in list_siblings(world.timiza)] == ["0801"]
    assert [t.code for t in list_children(world.kennedy)] == ["0801"]


def test_siblings_of_a_big_layer_are_cut_to_the_neighbours(grid):
    layer = Layer.objects.get(city=grid)
    codes = [t.code for t in list_siblings(grid.territories.get(code="B"), limit=2)]
    assert codes == ["A", "B", "C", "D"]  # all four touch B's grown box
    TerritoryFactory(layer=layer, code="F", name="Far", bounds=(-60, 4, -59, 5))
    codes = [t.code for t in list_siblings(grid.territories.get(code="B"), limit=2)]
    assert "F" not in codes
