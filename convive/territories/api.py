"""Territories in the JSON API: cities, layers, GeoJSON boundaries and point lookup.

Public, read-only. Layers and territories are served as GeoJSON (RFC 7946) with the media type
``application/geo+json``.
"""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.urls import reverse
from ninja import Query, Router

from convive.accounts.permissions import Action, api_permission
from convive.core.geo import check_lon_lat
from convive.territories import geojson, queries
from convive.territories.models import City, Layer, Territory
from convive.territories.schemas import (
    CitiesPublic,
    CityPublic,
    FeatureCollectionPublic,
    FeaturePublic,
    LayerPublic,
    LayersPublic,
    LocateResult,
    TerritoryPublic,
)

router = Router(tags=["territories"])

SIMPLIFY_MAX_DEGREES = 0.01  # about 1 km: more would turn colonias into triangles


def _layer_public(layer: Layer) -> LayerPublic:
    return LayerPublic(
        slug=layer.slug,
        name=layer.name,
        kind=layer.kind,
        parent_layer=layer.parent_layer.slug if layer.parent_layer else None,
        territory_count=layer.territory_count,
        source=layer.source,
        imported_at=layer.imported_at,
    )


def _city_public(city: City, layers: list[Layer]) -> CityPublic:
    return CityPublic(
        slug=city.slug,
        name=city.name,
        country_code=city.country_code,
        is_demo=city.is_demo,
        territory_count=sum(layer.territory_count for layer in layers),
        layers=[_layer_public(layer) for layer in layers],
    )


def _territory_public(city: City, territory: Territory) -> TerritoryPublic:
    layer_slug = territory.layer.slug
    return TerritoryPublic(
        layer=layer_slug,
        code=territory.code,
        name=territory.name,
        parent_code=territory.parent.code if territory.parent else None,
        population=territory.population,
        area_km2=territory.area_km2,
        url=reverse("api:territories_territory", args=[city.slug, layer_slug, territory.code]),
    )


def _geojson_response(text: str) -> HttpResponse:
    return HttpResponse(text, content_type=f"{geojson.MEDIA_TYPE}; charset=utf-8")


@router.get(
    "/cities", response=CitiesPublic, url_name="territories_cities", **api_permission(Action.PUBLIC)
)
def list_cities(request: HttpRequest) -> CitiesPublic:
    """Every city with its layers and how many territories each holds."""
    cities = [_city_public(city, city.layer_list) for city in queries.list_cities()]
    return CitiesPublic(data=cities, count=len(cities))


@router.get(
    "/cities/{city_slug}/layers",
    response=LayersPublic,
    url_name="territories_layers",
    **api_permission(Action.PUBLIC),
)
def list_layers(request: HttpRequest, city_slug: str) -> LayersPublic:
    """The city's layers (localities, neighbourhoods, quadrants...) in import order."""
    layers = [_layer_public(layer) for layer in queries.list_layers(queries.get_city(city_slug))]
    return LayersPublic(data=layers, count=len(layers))


@router.get(
    "/cities/{city_slug}/layers/{layer_slug}",
    response=FeatureCollectionPublic,
    url_name="territories_layer",
    **api_permission(Action.PUBLIC),
)
def get_layer(
    request: HttpRequest,
    city_slug: str,
    layer_slug: str,
    simplify: float = Query(
        0.0,
        ge=0.0,
        le=SIMPLIFY_MAX_DEGREES,
        description="Simplification tolerance in degrees (0: the boundaries as imported).",
    ),
) -> HttpResponse:
    """The layer as a GeoJSON FeatureCollection (``application/geo+json``), sorted by code."""
    layer = queries.get_layer(queries.get_city(city_slug), layer_slug)
    territories = queries.list_layer_territories(layer)
    for territory in territories:
        territory.layer = layer
    return _geojson_response(geojson.feature_collection(territories, simplify=simplify))


@router.get(
    "/cities/{city_slug}/layers/{layer_slug}/territories/{code}",
    response=FeaturePublic,
    url_name="territories_territory",
    **api_permission(Action.PUBLIC),
)
def get_territory(request: HttpRequest, city_slug: str, layer_slug: str, code: str) -> HttpResponse:
    """One territory as a GeoJSON Feature (``application/geo+json``)."""
    territory = queries.get_territory(queries.get_city(city_slug), layer_slug, code)
    return _geojson_response(geojson.feature(territory))


@router.get(
    "/cities/{city_slug}/locate",
    response=LocateResult,
    url_name="territories_locate",
    **api_permission(Action.PUBLIC),
)
def locate(request: HttpRequest, city_slug: str, lat: float, lon: float) -> LocateResult:
    """The territory of every layer containing the point; an empty list when it is outside."""
    lon, lat = check_lon_lat(lon, lat)
    city = queries.get_city(city_slug)
    found = [_territory_public(city, t) for t in queries.locate(city, lon=lon, lat=lat)]
    return LocateResult(city=city.slug, lat=lat, lon=lon, data=found, count=len(found))
