"""API schemas for territories: `<Entity>Public`, and `<Entities>Public` with `data` and `count`.

The GeoJSON schemas document what ``geojson.py`` writes (RFC 7946); those endpoints serve their
body as ``application/geo+json`` without going through the schema.
"""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from ninja import Schema


class LayerPublic(Schema):
    slug: str
    name: str
    kind: str
    parent_layer: str | None  # slug of the layer holding the parents, if any
    territory_count: int
    source: str
    imported_at: datetime | None


class LayersPublic(Schema):
    data: list[LayerPublic]
    count: int


class CityPublic(Schema):
    slug: str
    name: str
    country_code: str
    is_demo: bool
    territory_count: int
    layers: list[LayerPublic]


class CitiesPublic(Schema):
    data: list[CityPublic]
    count: int


class TerritoryPublic(Schema):
    layer: str
    code: str
    name: str
    parent_code: str | None
    population: int | None
    area_km2: float
    url: str  # this territory as a GeoJSON Feature


class LocateResult(Schema):
    """The territory of every layer of the city that contains the point (boundary rule applied)."""

    city: str
    lat: float
    lon: float
    data: list[TerritoryPublic]
    count: int


class GeometryPublic(Schema):
    type: Literal["Polygon", "MultiPolygon"]
    coordinates: list  # [lon, lat] positions, exterior rings counterclockwise


class TerritoryProperties(Schema):
    code: str
    name: str
    layer: str
    parent_code: str | None
    population: int | None
    population_year: int | None
    area_km2: float


class FeaturePublic(Schema):
    type: Literal["Feature"]
    id: str
    bbox: list[float]
    geometry: GeometryPublic
    properties: TerritoryProperties


class FeatureCollectionPublic(Schema):
    type: Literal["FeatureCollection"]
    bbox: list[float] | None
    features: list[FeaturePublic]
