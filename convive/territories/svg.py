"""Server-rendered SVG maps of territories: no tile server, no script, a light page.

Longitude and latitude are projected with an equirectangular projection scaled by the cosine of
the map's middle latitude (shapes keep their proportions at city scale), into a ``viewBox``
``MAP_WIDTH`` units wide. Geometry is simplified in those units, harder for maps of many shapes,
and written as integer, relative path commands, so that the 1,814 colonias of Mexico City
fit in about 300 KB.
"""

from __future__ import annotations

import math
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from django.utils.html import escape
from django.utils.safestring import SafeString, mark_safe

MAP_WIDTH = 1000
MARGIN = 4
# Simplification tolerance in viewBox units: 0.5 for a few shapes, growing with their number
# (many shapes means small shapes and a heavy page), capped so that shapes stay recognisable.
BASE_TOLERANCE = 0.5
MAX_TOLERANCE = 2.0
SHAPES_PER_TOLERANCE_STEP = 150
# Above this many links the map's shapes leave the tab order: the table beside the map lists the
# same pages, and nobody should tab through 1,800 colonias to reach the form after the map.
MAX_FOCUSABLE_LINKS = 100
# Above this many shapes a link carries its name in ``aria-label`` only, without a ``<title>``
# tooltip: on a map of 1,814 colonias the tooltips alone would weigh 70 KB.
MAX_TOOLTIPS = 300


@dataclass(frozen=True)
class MapShape:
    geometry: shapely.Geometry
    label: str  # accessible name and tooltip
    url: str = ""  # a link to the territory's page, when given
    css_class: str = ""  # "highlight" for the territory of the page, "context" for neighbours


@dataclass(frozen=True)
class _Frame:
    """Lon/lat → viewBox units."""

    min_lon: float
    max_lat: float
    x_scale: float
    y_scale: float
    width: int
    height: int

    @classmethod
    def around(cls, bounds: Sequence[float]) -> _Frame:
        min_lon, min_lat, max_lon, max_lat = bounds
        shrink = math.cos(math.radians((min_lat + max_lat) / 2))
        span = max((max_lon - min_lon) * shrink, (max_lat - min_lat) * 0.2, 1e-9)
        scale = (MAP_WIDTH - 2 * MARGIN) / span
        height = math.ceil((max_lat - min_lat) * scale) + 2 * MARGIN
        return cls(min_lon, max_lat, scale * shrink, scale, MAP_WIDTH, height)

    def project(self, coords: np.ndarray) -> np.ndarray:
        x = (coords[:, 0] - self.min_lon) * self.x_scale + MARGIN
        y = (self.max_lat - coords[:, 1]) * self.y_scale + MARGIN
        return np.column_stack([x, y])


def tolerance_for(shape_count: int) -> float:
    steps = math.sqrt(max(shape_count, 1) / SHAPES_PER_TOLERANCE_STEP)
    return min(MAX_TOLERANCE, max(BASE_TOLERANCE, BASE_TOLERANCE * steps))


def _ring_path(points: np.ndarray) -> str:
    """``M x y l dx dy ... z`` in whole units; '' when the ring collapses below one unit."""
    whole = np.rint(points).astype(np.int64)
    keep = np.ones(len(whole), dtype=bool)
    keep[1:] = np.any(whole[1:] != whole[:-1], axis=1)
    whole = whole[keep]
    if len(whole) > 1 and (whole[0] == whole[-1]).all():
        whole = whole[:-1]
    if len(whole) < 3:
        return ""
    steps = np.diff(whole, axis=0).ravel().tolist()
    relative = " ".join(map(str, steps)).replace(" -", "-")
    return f"M{whole[0, 0]} {whole[0, 1]}l{relative}z"


def shape_path(geometry: shapely.Geometry, frame: _Frame, tolerance: float) -> str:
    """The ``d`` attribute of one territory (holes included, drawn with fill-rule evenodd)."""
    projected = shapely.transform(geometry, frame.project)
    simple = shapely.simplify(projected, tolerance, preserve_topology=True)
    if simple.is_empty:
        simple = projected
    rings = []
    for polygon in shapely.get_parts(simple):
        rings.append(_ring_path(np.asarray(polygon.exterior.coords)))
        rings.extend(_ring_path(np.asarray(hole.coords)) for hole in polygon.interiors)
    path = "".join(rings)
    if not path:  # smaller than a unit: a dot at its representative point, so it stays visible
        point = shapely.point_on_surface(projected)
        path = f"M{round(point.x)} {round(point.y)}h1v1h-1z"
    return path


def _shape_element(shape: MapShape, d: str, *, focusable: bool, tooltip: bool) -> str:
    label = escape(shape.label)
    css = f' class="{escape(shape.css_class)}"' if shape.css_class else ""
    if tooltip or not shape.url:
        path = f'<path{css} d="{d}"><title>{label}</title></path>'
    else:
        path = f'<path{css} d="{d}"/>'
    if not shape.url:
        return path
    tab = "" if focusable else ' tabindex="-1"'
    return f'<a href="{escape(shape.url)}" aria-label="{label}"{tab}>{path}</a>'


def render_map(
    shapes: Sequence[MapShape], *, title: str, point: tuple[float, float] | None = None
) -> SafeString:
    """An inline ``<svg>`` of ``shapes``; ``point`` = (lon, lat) is marked with a dot."""
    if not shapes:
        return SafeString("")
    geometries = [shape.geometry for shape in shapes]
    frame = _Frame.around(shapely.total_bounds(geometries))
    tolerance = tolerance_for(len(shapes))
    focusable = sum(1 for shape in shapes if shape.url) <= MAX_FOCUSABLE_LINKS
    tooltip = len(shapes) <= MAX_TOOLTIPS
    body = "".join(
        _shape_element(
            shape,
            shape_path(shape.geometry, frame, tolerance),
            focusable=focusable,
            tooltip=tooltip,
        )
        for shape in shapes
    )
    if point is not None:
        x, y = frame.project(np.array([point], dtype=float))[0]
        if 0 <= x <= frame.width and 0 <= y <= frame.height:
            body += f'<circle class="point" cx="{x:.0f}" cy="{y:.0f}" r="6"/>'
    svg = (
        f'<svg class="territory-map" xmlns="http://www.w3.org/2000/svg" '
        f'viewBox="0 0 {frame.width} {frame.height}" role="group" aria-label="{escape(title)}">'
        f"<title>{escape(title)}</title>{body}</svg>"
    )
    return mark_safe(svg)  # noqa: S308 (every text and attribute above is escaped)
