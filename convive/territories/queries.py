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

import copy
import threading
import uuid
from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import shapely
from django.db import connection
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
    # The city's row as it was when the index was built (None if it is gone): every write to a
    # city renews its token too (admin, importer), so this is as fresh as the token.
    city: City | None
    layers: tuple[LayerIndex, ...]
    layer_kinds: dict[str, str]  # slug -> kind of every layer of the city, in import order
    # Every territory of the city with its layer and parent, without geometry: ``locate`` answers
    # from here instead of the database. Safe to keep: every write to a territory renews the token.
    territories: dict[int, Territory]
    layer_depths: dict[int, int]  # layer id -> how many layers it sits under (localities: 0)


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


def _current_token(city_pk: int) -> str:
    """The city's ``index_token`` as stored now. Every report asks, so this is a bare query:
    the ORM's would cost ten times as much to build as to run."""
    sql = f"SELECT index_token FROM {City._meta.db_table} WHERE id = %s"  # noqa: S608 (no input)
    with connection.cursor() as cursor:
        cursor.execute(sql, [city_pk])
        row = cursor.fetchone()
    return _token_text(row[0] if row else None)


def _token_text(token: object) -> str:
    """One spelling for a UUID, whatever the database driver returned."""
    return str(uuid.UUID(str(token))) if token is not None else "None"


def _depths(parents: dict[int, int | None]) -> dict[int, int]:
    depths: dict[int, int] = {}
    for layer_id in parents:
        depth, parent = 0, parents[layer_id]
        while parent is not None and depth < len(parents):  # bounded: a cycle cannot hang us
            depth, parent = depth + 1, parents.get(parent)
        depths[layer_id] = depth
    return depths


def _build_city_index(city_pk: int, token: str) -> CityIndex:
    city = City.objects.filter(pk=city_pk).first()
    city_layers = list(Layer.objects.filter(city_id=city_pk).order_by("pk"))
    layers = [build_layer_index(layer) for layer in city_layers]
    territories = (
        Territory.objects.filter(city_id=city_pk)
        .select_related("layer", "parent")
        .defer("geometry_wkb", "properties", "parent__geometry_wkb", "parent__properties")
        .order_by()
    )
    return CityIndex(
        token=token,
        city=city,
        layers=tuple(li for li in layers if li is not None),
        layer_kinds={layer.slug: layer.kind for layer in city_layers},
        territories={t.pk: t for t in territories},
        layer_depths=_depths({layer.pk: layer.parent_layer_id for layer in city_layers}),
    )


def _index_for(city_pk: int, token: str) -> CityIndex:
    cached = _cache.get(city_pk)
    if cached is not None and cached.token == token:
        return cached
    with _lock:
        cached = _cache.get(city_pk)
        if cached is not None and cached.token == token:
            return cached
        index = _build_city_index(city_pk, token)
        _cache[city_pk] = index
        return index


def city_index(city: City) -> CityIndex:
    """The index for ``city``, rebuilt when its ``index_token`` has changed since last use."""
    return _index_for(city.pk, _current_token(city.pk))


def city_indexes() -> list[CityIndex]:
    """The index of every city, in city ``pk`` order: one bare query reads all the tokens."""
    sql = f"SELECT id, index_token FROM {City._meta.db_table} ORDER BY id"  # noqa: S608
    with connection.cursor() as cursor:
        cursor.execute(sql)
        rows = cursor.fetchall()
    return [_index_for(pk, _token_text(token)) for pk, token in rows]


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
    return _locate_ids(city_index(city), lons, lats)


def _locate_ids(
    index: CityIndex, lons: Sequence[float], lats: Sequence[float]
) -> dict[str, np.ndarray]:
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


def _point_ids(index: CityIndex, lon: float, lat: float) -> list[int]:
    """The ids of the territories containing one point, one per layer at most, in layer order.

    The same answer as ``_locate_ids`` for a batch of one (boundary rule included), without its
    batch machinery, which costs several times more than the geometry for a single point."""
    point = shapely.Point(lon, lat)
    found = []
    for layer in index.layers:
        candidates = layer.tree.query(point)  # bounding boxes only: cheap
        if len(candidates) == 0:
            continue
        geometries = layer.geometries[candidates]
        hits = candidates[shapely.contains_xy(geometries, lon, lat)]
        if len(hits) == 0:  # on a boundary, or outside: the boundary counts when no interior does
            hits = candidates[shapely.intersects_xy(geometries, lon, lat)]
        if len(hits):
            found.append(int(layer.territory_ids[hits[np.argmin(layer.rank[hits])]]))
    return found


def locate_many(city: City, lons: Sequence[float], lats: Sequence[float]) -> list[dict[str, int]]:
    """For each point, ``{layer_slug: territory_id}`` for every layer that contains it."""
    by_layer = locate_ids(city, lons, lats)
    results: list[dict[str, int]] = [{} for _ in range(len(lons))]
    for slug, ids in by_layer.items():
        for i in np.flatnonzero(ids):
            results[i][slug] = int(ids[i])
    return results


def locate(
    city: City, *, lon: float, lat: float, index: CityIndex | None = None
) -> list[Territory]:
    """The territory of every layer that contains the point, in layer order.

    Each comes with its layer and parent, but without its geometry or source properties (deferred:
    read on access). They are copies of the index's, so a caller may change them freely.
    ``index``: the city's, when the caller has just obtained it (``city_indexes``), which spares
    reading the token again.
    """
    index = _checked_index(city, index)
    return _territories(index, _point_ids(index, lon, lat))


def _territories(index: CityIndex, ids: list[int]) -> list[Territory]:
    """Copies of the index's territories with these ids, in layer order."""
    territories = [copy.copy(index.territories[pk]) for pk in ids if pk in index.territories]
    if len(territories) < len(ids):  # an import between the index's two reads: ask the database
        territories = list(
            Territory.objects.filter(pk__in=ids).select_related("layer", "parent").order_by()
        )
    return sorted(territories, key=lambda t: t.layer_id)


def _checked_index(city: City, index: CityIndex | None) -> CityIndex:
    if index is None:
        return city_index(city)
    if index.city is None or index.city.pk != city.pk:
        raise ValueError(f"the index given is not the index of city {city.pk}")
    return index


def locate_anywhere(lon: float, lat: float) -> tuple[CityIndex, list[Territory]] | None:
    """The first city (by ``pk``) with a territory containing the point, as its index, and the
    territories that contain the point (as ``locate`` gives them); None outside every city.

    One query for all the cities' tokens, and one pass over each city's layers."""
    for index in city_indexes():
        if index.city is None:
            continue
        found = _point_ids(index, lon, lat)
        if found:
            return index, _territories(index, found)
    return None


def city_at(lon: float, lat: float) -> City | None:
    """The city with a territory (of any layer) containing the point, or None (a copy: the
    caller may change it)."""
    found = locate_anywhere(lon, lat)
    return copy.copy(found[0].city) if found is not None else None


METRES_PER_DEGREE = 111_320.0  # along a meridian; close enough for a tolerance of a few metres


def territory_ids_near(
    city: City,
    layer_slug: str,
    *,
    lon: float,
    lat: float,
    metres: float,
    index: CityIndex | None = None,
) -> list[int]:
    """Ids of the territories of one layer within ``metres`` of the point (boundary checks).

    ``index``: the city's, when the caller already has it (as for ``locate``)."""
    layers = _checked_index(city, index).layers
    found = next((li for li in layers if li.layer_slug == layer_slug), None)
    if found is None:
        return []
    point = shapely.Point(lon, lat)
    hits = found.tree.query(point, predicate="dwithin", distance=metres / METRES_PER_DEGREE)
    return sorted(int(found.territory_ids[h]) for h in hits)


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
