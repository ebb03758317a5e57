"""Reads about territories, and point-in-polygon: which territory of each layer contains a point.

One process-wide index per city: for each layer a shapely ``STRtree`` over the territories'
prepared polygons, built on first use and rebuilt when the city's ``index_token`` changes (every
import gives it a new one). A batch is answered with one vectorised pass per layer: the tree gives
the candidates whose bounding box holds each point, ``shapely.contains_xy`` keeps those whose
interior holds it, and ``shapely.intersects_xy`` settles the few points left on a boundary.

Boundary rule (``docs/territories.md``): a point that lies on the shared edge or vertex of
two or more territories of a layer goes to exactly one of them. A territory whose interior contains
the point wins over one whose boundary only touches it, and among equals the lowest ``code`` wins,
comparing codes as Python strings (code point order, the same on every database). A point on the
outer boundary of a single territory belongs to it. Points outside every territory of a layer get
nothing for that layer.
"""

from __future__ import annotations

import threading
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from django.db.models import Count, Prefetch, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from convive.territories.models import City, Layer, Territory

# --- Point-in-polygon -----------------------------------------------------------------------------


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


def build_layer_index(layer: Layer) -> LayerIndex | None:
    """A fresh (uncached) index of one layer, or None when the layer has no territory."""
    rows = list(Territory.objects.filter(layer=layer).values_list("pk", "code", "geometry_wkb"))
    if not rows:
        return None
    ids = np.array([pk for pk, _code, _wkb in rows], dtype=np.int64)
    codes = [code for _pk, code, _wkb in rows]
    geoms = shapely.from_wkb([bytes(wkb) for _pk, _code, wkb in rows])
    shapely.prepare(geoms)
    rank = np.empty(len(rows), dtype=np.int64)
    rank[sorted(range(len(codes)), key=codes.__getitem__)] = np.arange(len(codes))
    return LayerIndex(
        layer_id=layer.pk,
        layer_slug=layer.slug,
        tree=shapely.STRtree(geoms),
        geometries=geoms,
        territory_ids=ids,
        rank=rank,
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
        layers = [
            build_layer_index(layer) for layer in Layer.objects.filter(city=city).order_by("pk")
        ]
        index = CityIndex(token=token, layers=tuple(li for li in layers if li is not None))
        _cache[city.pk] = index
        return index


def _pick_lowest_rank(
    result: np.ndarray, point_idx: np.ndarray, tree_idx: np.ndarray, rank: np.ndarray
) -> None:
    """Set ``result[p]`` to the candidate of lowest rank among the (point, candidate) pairs."""
    if len(point_idx) == 0:
        return
    order = np.lexsort((rank[tree_idx], point_idx))
    points_sorted = point_idx[order]
    first = np.ones(len(order), dtype=bool)
    first[1:] = points_sorted[1:] != points_sorted[:-1]
    result[points_sorted[first]] = tree_idx[order][first]


def resolve_points(
    index: LayerIndex, points: np.ndarray, lons: np.ndarray, lats: np.ndarray
) -> np.ndarray:
    """For each point, the tree position of its territory in this layer (boundary rule), or -1."""
    result = np.full(len(points), -1, dtype=np.int64)
    point_idx, tree_idx = index.tree.query(points)  # bounding boxes only: cheap
    if len(point_idx) == 0:
        return result
    inside = shapely.contains_xy(index.geometries[tree_idx], lons[point_idx], lats[point_idx])
    _pick_lowest_rank(result, point_idx[inside], tree_idx[inside], index.rank)
    unresolved = result[point_idx] < 0
    if unresolved.any():  # on a boundary, or outside: the boundary counts when no interior does
        p, t = point_idx[unresolved], tree_idx[unresolved]
        touching = shapely.intersects_xy(index.geometries[t], lons[p], lats[p])
        _pick_lowest_rank(result, p[touching], t[touching], index.rank)
    return result


def locate_ids(city: City, lons: Sequence[float], lats: Sequence[float]) -> dict[str, np.ndarray]:
    """Vectorised lookup: for each layer slug, an array of territory ids (0 where none)."""
    index = city_index(city)
    lon_array = np.asarray(lons, dtype=float)
    lat_array = np.asarray(lats, dtype=float)
    points = shapely.points(lon_array, lat_array)
    out: dict[str, np.ndarray] = {}
    for layer in index.layers:
        positions = resolve_points(layer, points, lon_array, lat_array)
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
    if not found:
        return []
    # No ORDER BY: Territory's default ordering joins layer and city, for nothing, sorted here.
    territories = (
        Territory.objects.filter(pk__in=found.values()).select_related("layer", "parent").order_by()
    )
    return sorted(territories, key=lambda t: t.layer_id)


# --- Cities, layers and territories ---------------------------------------------------------------


def list_layers(city: City) -> QuerySet[Layer]:
    """The city's layers in import order, each with ``territory_count``."""
    return (
        Layer.objects.filter(city=city)
        .select_related("parent_layer")
        .annotate(territory_count=Count("territories"))
        .order_by("pk")
    )


def list_cities() -> QuerySet[City]:
    """Every city by name, with its layers (``city.layer_list``) and ``territory_count``."""
    layers = (
        Layer.objects.select_related("parent_layer")
        .annotate(territory_count=Count("territories"))
        .order_by("pk")
    )
    return (
        City.objects.annotate(territory_count=Count("territories"))
        .prefetch_related(Prefetch("layers", queryset=layers, to_attr="layer_list"))
        .order_by("name")
    )


def get_city(slug: str) -> City:
    city = City.objects.filter(slug=slug).first()
    if city is None:
        raise Http404(_("City not found."))
    return city


def get_layer(city: City, slug: str) -> Layer:
    layer = list_layers(city).filter(slug=slug).first()
    if layer is None:
        raise Http404(_("Layer not found."))
    return layer


def get_territory(city: City, layer_slug: str, code: str) -> Territory:
    territory = (
        Territory.objects.filter(city=city, layer__slug=layer_slug, code=code)
        .select_related("city", "layer", "parent__layer")
        .first()
    )
    if territory is None:
        raise Http404(_("Territory not found."))
    return territory


def sort_by_code(territories: Sequence[Territory]) -> list[Territory]:
    """In code order as Python compares strings: the same order on SQLite and PostgreSQL."""
    return sorted(territories, key=lambda t: t.code)


def list_layer_territories(layer: Layer) -> list[Territory]:
    """Every territory of a layer (geometry included), with its parent, in code order."""
    return sort_by_code(Territory.objects.filter(layer=layer).select_related("parent__layer"))


def list_siblings(territory: Territory, *, limit: int = 300) -> list[Territory]:
    """The territory's layer-mates under the same parent (itself included), in code order.

    A big layer without parents (847 police quadrants) is cut down to the neighbours whose
    bounding box meets the territory's, grown by its own size on each side.
    """
    qs = Territory.objects.filter(layer_id=territory.layer_id, parent_id=territory.parent_id)
    if qs.count() > limit:
        grow_lon = territory.max_lon - territory.min_lon
        grow_lat = territory.max_lat - territory.min_lat
        qs = qs.filter(
            max_lon__gte=territory.min_lon - grow_lon,
            min_lon__lte=territory.max_lon + grow_lon,
            max_lat__gte=territory.min_lat - grow_lat,
            min_lat__lte=territory.max_lat + grow_lat,
        )
    return sort_by_code(qs.select_related("layer"))


def list_children(territory: Territory) -> list[Territory]:
    """The territories directly inside this one, by layer and then code."""
    children = (
        Territory.objects.filter(parent=territory).select_related("layer").defer("geometry_wkb")
    )
    return sorted(children, key=lambda t: (t.layer_id, t.code))
