"""The demo city's shapes, on a flat kilometre grid around its centre.

``x`` grows eastwards and ``y`` northwards, in kilometres from the centre (``CENTRE_LON``,
``CENTRE_LAT``); ``to_degrees`` converts a finished shape to WGS84. At 15 km across, the error of
this flat approximation is far below the output precision that matters (metres).
"""

from __future__ import annotations

import math
import random
from dataclasses import dataclass

import numpy as np
import shapely
from shapely.geometry import Point, Polygon, box

# 71.20° W, 5.20° N: savannas of Casanare (Colombian Orinoquía), where no town stands.
CENTRE_LON = -71.20
CENTRE_LAT = 5.20
KM_PER_DEG_LAT = 110.574
KM_PER_DEG_LON = 111.320 * math.cos(math.radians(CENTRE_LAT))
PRECISION = 6  # decimals of a degree, about 0.1 m

HALF_WIDTH_KM, HALF_HEIGHT_KM = 7.5, 6.0
OUTLINE_VERTICES = 96
QUADRANT_KM = 1.5


@dataclass
class Draft:
    """A territory being generated."""

    code: str
    name: str
    shape: Polygon  # kilometres
    population: int | None = None
    parent_code: str | None = None


def to_degrees(shape: shapely.Geometry) -> shapely.Geometry:
    """Kilometres east/north of the centre to lon/lat, snapped to ``PRECISION`` decimals."""

    def convert(xy: np.ndarray) -> np.ndarray:
        lon = CENTRE_LON + xy[:, 0] / KM_PER_DEG_LON
        lat = CENTRE_LAT + xy[:, 1] / KM_PER_DEG_LAT
        return np.column_stack([lon, lat])

    return shapely.set_precision(shapely.transform(shape, convert), 10.0**-PRECISION)


def point_to_lon_lat(point: Point) -> tuple[float, float]:
    lon = round(CENTRE_LON + point.x / KM_PER_DEG_LON, PRECISION)
    lat = round(CENTRE_LAT + point.y / KM_PER_DEG_LAT, PRECISION)
    return lon, lat


def outline(rng: random.Random) -> Polygon:
    """An ellipse of about 15 x 12 km, made irregular by random harmonics and noise."""
    harmonics = [(k, rng.uniform(0.02, 0.06), rng.uniform(0, 2 * math.pi)) for k in range(2, 6)]
    coords = []
    for i in range(OUTLINE_VERTICES):
        theta = 2 * math.pi * i / OUTLINE_VERTICES
        wobble = 1 + sum(amp * math.cos(k * theta + phase) for k, amp, phase in harmonics)
        wobble += rng.uniform(-0.015, 0.015)
        coords.append(
            (HALF_WIDTH_KM * math.cos(theta) * wobble, HALF_HEIGHT_KM * math.sin(theta) * wobble)
        )
    return Polygon(coords)


def _shrunk(region: Polygon, margin: float) -> Polygon:
    inner = region.buffer(-margin)
    return region if inner.is_empty else inner


def _random_point_in(rng: random.Random, region: Polygon) -> Point:
    min_x, min_y, max_x, max_y = region.bounds
    for _attempt in range(1000):
        candidate = Point(rng.uniform(min_x, max_x), rng.uniform(min_y, max_y))
        if region.contains(candidate):
            return candidate
    return region.representative_point()


def point_inside(rng: random.Random, region: Polygon, *, margin: float = 0.15) -> Point:
    """A random point at least ``margin`` km inside ``region`` (when the region allows it)."""
    return _random_point_in(rng, _shrunk(region, margin))


def _spread_points(rng: random.Random, region: Polygon, count: int, spacing: float) -> list[Point]:
    """``count`` random points inside ``region`` at least ``spacing`` apart (the spacing is
    relaxed gradually when the region is too tight for it)."""
    inner = _shrunk(region, spacing / 3)
    points: list[Point] = []
    attempts = 0
    while len(points) < count:
        attempts += 1
        if attempts % 500 == 0:
            spacing *= 0.8
        candidate = _random_point_in(rng, inner)
        if all(candidate.distance(p) >= spacing for p in points):
            points.append(candidate)
    return points


def _voronoi_cells(points: list[Point], region: Polygon) -> list[Polygon] | None:
    """The Voronoi cells of ``points`` clipped to ``region``, or None when a cell is not one
    reasonable polygon (a concave region can cut a cell in two)."""
    diagram = shapely.voronoi_polygons(shapely.MultiPoint(points), extend_to=region, ordered=True)
    cells = [region.intersection(cell) for cell in diagram.geoms]
    smallest = 0.15 * region.area / len(points)
    if any(cell.geom_type != "Polygon" or cell.area < smallest for cell in cells):
        return None
    return cells


def _centre(cell: Polygon) -> Point:
    centroid = cell.centroid
    return centroid if cell.contains(centroid) else cell.representative_point()


def in_reading_order(shapes: list[Polygon]) -> list[Polygon]:
    """North to south, then west to east, so that codes read like a map."""
    return sorted(shapes, key=lambda s: (-round(s.centroid.y, 6), round(s.centroid.x, 6)))


def partition(rng: random.Random, region: Polygon, count: int) -> list[Polygon]:
    """Split ``region`` into ``count`` compact polygons that tile it, in reading order."""
    spacing = 0.6 * math.sqrt(region.area / count)
    for _attempt in range(50):
        cells = _voronoi_cells(_spread_points(rng, region, count, spacing), region)
        for _round in range(3):  # Lloyd's relaxation evens out the cell sizes
            if cells is None:
                break
            cells = _voronoi_cells([_centre(cell) for cell in cells], region)
        if cells is not None:
            return in_reading_order(cells)
    raise RuntimeError("Could not partition a demo territory; try another seed.")


def _merge_slivers(pieces: list[Polygon], min_area: float) -> list[Polygon]:
    """Merge each piece smaller than ``min_area`` into the neighbour it shares most border with."""
    pieces = sorted(pieces, key=lambda p: p.area)
    kept: list[Polygon] = []
    while pieces and pieces[0].area < min_area:
        sliver = pieces.pop(0)
        shared = [sliver.boundary.intersection(p.boundary).length for p in pieces]
        best = max(range(len(shared)), key=shared.__getitem__, default=None)
        merged = shapely.union(pieces[best], sliver) if best is not None and shared[best] else None
        if merged is None or merged.geom_type != "Polygon":
            kept.append(sliver)  # touches no neighbour along a border: a quadrant of its own
            continue
        pieces[best] = merged
        pieces.sort(key=lambda p: p.area)
    return kept + pieces


def quadrant_grid(rng: random.Random, region: Polygon) -> list[Polygon]:
    """Square cells of ``QUADRANT_KM`` with a random offset, clipped to ``region``."""
    min_x, min_y, max_x, max_y = region.bounds
    origin_x = min_x - rng.uniform(0, QUADRANT_KM)
    origin_y = min_y - rng.uniform(0, QUADRANT_KM)
    columns = math.ceil((max_x - origin_x) / QUADRANT_KM)
    rows = math.ceil((max_y - origin_y) / QUADRANT_KM)
    pieces: list[Polygon] = []
    for col in range(columns):
        for row in range(rows):
            x, y = origin_x + col * QUADRANT_KM, origin_y + row * QUADRANT_KM
            cell = box(x, y, x + QUADRANT_KM, y + QUADRANT_KM).intersection(region)
            pieces += [p for p in shapely.get_parts(cell) if isinstance(p, Polygon) and p.area]
    return in_reading_order(_merge_slivers(pieces, 0.3 * QUADRANT_KM**2))


@dataclass(frozen=True)
class StreetGrid:
    """Colombian addresses: calles run east-west, numbered northwards from the city's southern
    edge; carreras run north-south, numbered westwards from its eastern edge; 100 m apart."""

    min_x: float
    min_y: float
    max_x: float
    max_y: float
    block_km: float = 0.1

    def address(self, rng: random.Random, point: Point) -> str:
        north_m = (point.y - self.min_y) * 1000
        west_m = (self.max_x - point.x) * 1000
        block_m = self.block_km * 1000
        calle, carrera = int(north_m // block_m) + 1, int(west_m // block_m) + 1
        if rng.random() < 0.5:  # a door on a calle is numbered from the carrera before it
            return f"Calle {calle} # {carrera}-{max(2, int(west_m % block_m)):02d}"
        return f"Carrera {carrera} # {calle}-{max(2, int(north_m % block_m)):02d}"
