"""Territories as GeoJSON (RFC 7946, ``../shared/standards/geojson-rfc7946/``): the one mapping.

Positions are ``[lon, lat]`` in WGS84; exterior rings are counterclockwise (the importer orients
them); each feature carries its ``bbox``. The text is assembled from ``shapely.to_geojson``
pieces, so that a layer of 1,814 colonias is written without building 200,000 Python lists.
"""

from __future__ import annotations

import json
from collections.abc import Sequence

import shapely

from convive.territories.models import Territory

MEDIA_TYPE = "application/geo+json"


def _geometry(territory: Territory, simplify: float) -> shapely.Geometry:
    geometry = territory.geometry
    if simplify > 0:
        geometry = shapely.orient_polygons(
            shapely.simplify(geometry, simplify, preserve_topology=True)
        )
    return geometry


def properties(territory: Territory) -> dict:
    parent = territory.parent
    return {
        "code": territory.code,
        "name": territory.name,
        "layer": territory.layer.slug,
        "parent_code": parent.code if parent is not None else None,
        "population": territory.population,
        "population_year": territory.population_year,
        "area_km2": round(territory.area_km2, 4),
    }


def _bbox(territory: Territory) -> list[float]:
    return [territory.min_lon, territory.min_lat, territory.max_lon, territory.max_lat]


def feature(territory: Territory, *, simplify: float = 0.0) -> str:
    """One territory as a GeoJSON Feature (text), its code as ``id``."""
    head = json.dumps(
        {"type": "Feature", "id": territory.code, "bbox": _bbox(territory)}, ensure_ascii=False
    )
    geometry = shapely.to_geojson(_geometry(territory, simplify))
    props = json.dumps(properties(territory), ensure_ascii=False)
    return f'{head[:-1]}, "geometry": {geometry}, "properties": {props}}}'


def feature_collection(territories: Sequence[Territory], *, simplify: float = 0.0) -> str:
    """Territories as a GeoJSON FeatureCollection (text), with the bbox of them all."""
    bbox = None
    if territories:
        bbox = [
            min(t.min_lon for t in territories),
            min(t.min_lat for t in territories),
            max(t.max_lon for t in territories),
            max(t.max_lat for t in territories),
        ]
    features = ",\n".join(feature(t, simplify=simplify) for t in territories)
    head = json.dumps({"type": "FeatureCollection", "bbox": bbox})
    return f'{head[:-1]}, "features": [\n{features}\n]}}\n'
