"""The territories API: cities, layers as GeoJSON, one territory, locate."""

from __future__ import annotations

import json

import pytest
from shapely.geometry import Point

from convive.territories.tests.factories import TerritoryFactory, territory_fields

pytestmark = pytest.mark.django_db

BASE = "/api/v1/territories"


@pytest.fixture
def api(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    return client


def test_cities_lists_every_city_with_its_layers(api, world):
    response = api.get(f"{BASE}/cities")
    assert response.status_code == 200
    body = response.json()
    assert body["count"] == 1
    city = body["data"][0]
    assert (city["slug"], city["name"], city["territory_count"]) == ("testopolis", "Testópolis", 3)
    assert [layer["slug"] for layer in city["layers"]] == ["locality", "neighbourhood"]
    assert city["layers"][1]["parent_layer"] == "locality"


def test_layers_of_a_city(api, world):
    body = api.get(f"{BASE}/cities/testopolis/layers").json()
    assert body["count"] == 2
    assert body["data"][0] == {
        "slug": "locality",
        "name": "Localidades",
        "kind": "locality",
        "parent_layer": None,
        "territory_count": 2,
        "source": "",
        "imported_at": None,
    }


def test_a_layer_is_a_geojson_feature_collection(api, world):
    response = api.get(f"{BASE}/cities/testopolis/layers/neighbourhood")
    assert response.status_code == 200
    assert response["Content-Type"].startswith("application/geo+json")
    body = json.loads(response.content)
    assert body["type"] == "FeatureCollection"
    assert body["bbox"] == [-74.2, 4.58, -74.15, 4.62]
    (feature,) = body["features"]
    assert feature["type"] == "Feature"
    assert feature["id"] == "0801"
    assert feature["geometry"]["type"] == "Polygon"
    ring = feature["geometry"]["coordinates"][0]
    assert ring[0] == ring[-1]
    assert all(-74.2 <= lon <= -74.15 and 4.58 <= lat <= 4.62 for lon, lat in ring)  # [lon, lat]
    assert feature["properties"]["parent_code"] == "08"
    assert feature["properties"]["population"] == 100_000
    assert {"code", "name", "layer", "area_km2"} <= feature["properties"].keys()


def _vertex_count(body: dict) -> int:
    return sum(len(f["geometry"]["coordinates"][0]) for f in body["features"])


def test_simplify_thins_the_boundaries(api, world):
    round_one = Point(-74.5, 4.5).buffer(0.05)
    TerritoryFactory(layer=world.localities, code="50", name="Round", **territory_fields(round_one))
    full = api.get(f"{BASE}/cities/testopolis/layers/locality").json()
    thin = api.get(f"{BASE}/cities/testopolis/layers/locality", {"simplify": "0.005"}).json()
    assert _vertex_count(thin) < _vertex_count(full)
    assert thin["features"][2]["geometry"]["type"] == "Polygon"


@pytest.mark.parametrize("value", ["-1", "0.5", "much"])
def test_a_bad_simplify_is_a_422_envelope(api, world, value):
    response = api.get(f"{BASE}/cities/testopolis/layers/locality", {"simplify": value})
    assert response.status_code == 422
    body = response.json()
    assert body["ok"] is False
    assert body["status"] == 422
    assert body["errors"][0]["field"] == "query.simplify"


def test_one_territory_is_a_geojson_feature(api, world):
    response = api.get(f"{BASE}/cities/testopolis/layers/locality/territories/08")
    assert response["Content-Type"].startswith("application/geo+json")
    feature = json.loads(response.content)
    assert (feature["type"], feature["id"], feature["properties"]["name"]) == (
        "Feature",
        "08",
        "Kennedy",
    )
    assert feature["bbox"] == [-74.2, 4.58, -74.1, 4.66]


def test_locate_gives_a_territory_per_layer(api, world):
    response = api.get(f"{BASE}/cities/testopolis/locate", {"lat": "4.6", "lon": "-74.18"})
    assert response.status_code == 200
    body = response.json()
    assert (body["city"], body["lat"], body["lon"], body["count"]) == ("testopolis", 4.6, -74.18, 2)
    assert [(t["layer"], t["code"], t["parent_code"]) for t in body["data"]] == [
        ("locality", "08", None),
        ("neighbourhood", "0801", "08"),
    ]
    assert (
        body["data"][1]["url"] == f"{BASE}/cities/testopolis/layers/neighbourhood/territories/0801"
    )
    assert api.get(body["data"][1]["url"]).status_code == 200


def test_locate_outside_gives_an_empty_list(api, world):
    body = api.get(f"{BASE}/cities/testopolis/locate", {"lat": "10", "lon": "-74"}).json()
    assert (body["data"], body["count"]) == ([], 0)


@pytest.mark.parametrize(
    ("query", "status", "field"),
    [
        ({"lat": "91", "lon": "-74"}, 400, "lat"),
        ({"lat": "4", "lon": "181"}, 400, "lon"),
        ({"lat": "north", "lon": "-74"}, 422, "query.lat"),
        ({"lat": "4"}, 422, "query.lon"),
    ],
)
def test_locate_refuses_a_bad_point_with_the_error_envelope(api, world, query, status, field):
    response = api.get(f"{BASE}/cities/testopolis/locate", query)
    assert response.status_code == status
    body = response.json()
    assert body["ok"] is False
    assert body["status"] == status
    assert body["errors"][0]["field"] == field


@pytest.mark.parametrize(
    "path",
    [
        "/cities/atlantis/layers",
        "/cities/testopolis/layers/nope",
        "/cities/testopolis/layers/locality/territories/99",
        "/cities/atlantis/locate?lat=1&lon=1",
    ],
)
def test_unknown_things_are_404_envelopes(api, world, path):
    response = api.get(BASE + path)
    assert response.status_code == 404
    assert response.json()["ok"] is False


def test_every_operation_is_public_and_documented():
    from convive.api import api as ninja_api

    schema = ninja_api.get_openapi_schema()
    operations = [
        operation
        for path, item in schema["paths"].items()
        if path.startswith(BASE)
        for operation in item.values()
    ]
    assert len(operations) == 5
    assert all(op["x-permission"] == "public" and 200 in op["responses"] for op in operations)
