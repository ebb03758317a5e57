"""Server-rendered SVG maps."""

from __future__ import annotations

import re

from shapely.geometry import MultiPolygon, box

from convive.territories.svg import MAX_FOCUSABLE_LINKS, MapShape, render_map, tolerance_for


def shapes(count: int) -> list[MapShape]:
    return [
        MapShape(box(-74 + i * 0.01, 4.5, -73.99 + i * 0.01, 4.51), f"T{i}", f"/t/{i}/")
        for i in range(count)
    ]


def test_a_map_has_a_viewbox_a_title_and_one_link_per_territory():
    svg = str(render_map(shapes(3), title="Map of <things>"))
    assert svg.startswith('<svg class="territory-map"')
    assert re.search(r'viewBox="0 0 1000 \d+"', svg)
    assert "<title>Map of &lt;things&gt;</title>" in svg
    assert svg.count('<a href="/t/') == 3
    assert 'aria-label="T1"' in svg
    assert "<title>T1</title>" in svg
    assert 'tabindex="-1"' not in svg


def test_paths_are_relative_whole_units():
    svg = str(render_map([MapShape(box(0, 0, 1, 1), "Square", "")], title="t"))
    (d,) = re.findall(r' d="([^"]+)"', svg)
    assert re.fullmatch(r"M\d+ \d+l[-\d ]+z", d)
    assert "<a " not in svg  # no URL: no link


def test_holes_and_parts_are_drawn():
    donut = box(0, 0, 3, 3).difference(box(1, 1, 2, 2))
    svg = str(render_map([MapShape(MultiPolygon([donut, box(4, 0, 5, 1)]), "x")], title="t"))
    (d,) = re.findall(r' d="([^"]+)"', svg)
    assert d.count("M") == 3


def test_classes_and_the_located_point_are_written():
    items = [MapShape(box(0, 0, 1, 1), "a", "/a/", "highlight"), MapShape(box(1, 0, 2, 1), "b")]
    svg = str(render_map(items, title="t", point=(0.5, 0.5)))
    assert '<path class="highlight"' in svg
    assert '<circle class="point"' in svg
    assert "circle" not in str(render_map(items, title="t", point=(50, 50)))  # off the map


def test_big_maps_leave_the_tab_order_and_simplify_harder():
    svg = str(render_map(shapes(MAX_FOCUSABLE_LINKS + 1), title="t"))
    assert svg.count('tabindex="-1"') == MAX_FOCUSABLE_LINKS + 1
    assert tolerance_for(2000) > tolerance_for(20)


def test_a_tiny_territory_stays_visible():
    tiny = MapShape(box(0, 0, 1e-6, 1e-6), "tiny")
    svg = str(render_map([tiny, MapShape(box(0, 0, 1, 1), "big")], title="t"))
    assert "h1v1h-1z" in svg


def test_no_shapes_no_map():
    assert str(render_map([], title="t")) == ""
