"""Point-in-polygon: which territory of each layer contains a point.

One process-wide index per city: for each layer a shapely ``STRtree`` over the territories'
polygons, built on first use and rebuilt when the city's ``index_token`` changes (every import
gives it a new one). ``locate_many`` answers a batch with one vectorised query per layer.

Boundary rule (``docs/decisions.md``): a point that lies on the shared edge or vertex of two or
more territories of a layer goes to exactly one of them: a territory whose interior contains the
point wins over one that only touches it, and among equals the lowest ``code`` (in text order)
wins. Points outside every territory of a layer get nothing for that layer.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely

from convive.territories.models import City, Layer, Territory


@dataclass(frozen=True)
class LayerIndex:
    layer_id: int
    layer_slug: str
    tree: shapely.STRtree
    geometries: np.ndarray  # prepared polygons, in tree order
    territory_ids: np.ndarray  # int64, in tree order
    rank: np.ndarray  # position of each territory in code order (the tie-break)


@dataclass(frozen=True)
class CityIndex:
    token: str
    layers: tuple[LayerIndex, ...]


_cache: dict[int, CityIndex] = {}
_lock = threading.Lock()


def _build_layer(layer: Layer) -> LayerIndex | None:
    rows = list(
        Territory.objects.filter(layer=layer).order_by("code").values_list("pk", "geometry_wkb")
    )
    if not rows:
        return None
    ids = np.array([pk for pk, _wkb in rows], dtype=np.int64)
    geoms = shapely.from_wkb([bytes(wkb) for _pk, wkb in rows])
    shapely.prepare(geoms)
    return LayerIndex(
        layer_id=layer.pk,
        layer_slug=layer.slug,
        tree=shapely.STRtree(geoms),
        geometries=geoms,
        territory_ids=ids,
        rank=np.arange(len(ids)),
    )


def city_index(city: City) -> CityIndex:
    """The index for ``city``, rebuilt when its ``index_token`` has changed since last use."""
    token = str(City.objects.filter(pk=city.pk).values_list("index_token", flat=True).first())
    cached = _cache.get(city.pk)
    if cached is not None and cached.token == token:
        return cached
    with _lock:
        cached = _cache.get(city.pk)
        if cached is not None and cached.token == token:
            return cached
        layers = [_build_layer(layer) for layer in Layer.objects.filter(city=city).order_by("pk")]
        index = CityIndex(token=token, layers=tuple(li for li in layers if li is not None))
        _cache[city.pk] = index
        return index


def _resolve_layer(index: LayerIndex, points: np.ndarray) -> np.ndarray:
    """For each point, the tree position of its territory in this layer, or -1."""
    point_idx, tree_idx = index.tree.query(points, predicate="intersects")
    result = np.full(len(points), -1, dtype=np.int64)
    if len(point_idx) == 0:
        return result
    counts = np.bincount(point_idx, minlength=len(points))
    single = counts[point_idx] == 1
    result[point_idx[single]] = tree_idx[single]
    for p in np.flatnonzero(counts > 1):
        candidates = tree_idx[point_idx == p]
        inside = [c for c in candidates if index.geometries[c].contains(points[p])]
        pool = inside or list(candidates)
        result[p] = min(pool, key=lambda c: index.rank[c])
    return result


def locate_ids(city: City, lons: Sequence[float], lats: Sequence[float]) -> dict[str, np.ndarray]:
    """Vectorised lookup: for each layer slug, an array of territory ids (0 where none)."""
    index = city_index(city)
    points = shapely.points(np.asarray(lons, dtype=float), np.asarray(lats, dtype=float))
    out: dict[str, np.ndarray] = {}
    for layer in index.layers:
        positions = _resolve_layer(layer, points)
        ids = np.zeros(len(points), dtype=np.int64)
        hit = positions >= 0
        ids[hit] = layer.territory_ids[positions[hit]]
        out[layer.layer_slug] = ids
    return out


def locate_many(city: City, lons: Sequence[float], lats: Sequence[float]) -> list[dict[str, int]]:
    """For each point, ``{layer_slug: territory_id}`` for every layer that contains it."""
    by_layer = locate_ids(city, lons, lats)
    results: list[dict[str, int]] = [{} for _ in range(len(lons))]
    for slug, ids in by_layer.items():
        for i in np.flatnonzero(ids):
            results[i][slug] = int(ids[i])
    return results


def locate(city: City, *, lon: float, lat: float) -> list[Territory]:
    """The territory of every layer that contains the point, in layer order."""
    found = locate_many(city, [lon], [lat])[0]
    territories = Territory.objects.filter(pk__in=found.values()).select_related("layer")
    return sorted(territories, key=lambda t: t.layer_id)
