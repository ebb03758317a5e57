"""The public territory pages."""

from __future__ import annotations

import re

import pytest
from django.core.cache import cache
from django.urls import reverse

from conftest import login
from convive.territories.tests.factories import LayerFactory, TerritoryFactory

pytestmark = pytest.mark.django_db


@pytest.fixture
def en(client):
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    cache.clear()  # cached maps are keyed by index token, but tests reuse primary keys
    return client


def test_index_lists_cities_with_layers_and_counts(en, world):
    response = en.get(reverse("territories:index"))
    assert response.status_code == 200
    page = response.content.decode()
    assert "Testópolis" in page
    assert "3 territories" in page
    assert f'href="{reverse("territories:city", args=["testopolis"])}?layer=neighbourhood"' in page


def test_index_without_cities(en, db):
    response = en.get(reverse("territories:index"))
    assert "No city has been imported yet." in response.content.decode()


def test_city_page_shows_the_first_layer_on_a_map_and_in_a_table(en, world):
    response = en.get(reverse("territories:city", args=["testopolis"]))
    assert response.status_code == 200
    page = response.content.decode()
    kennedy_url = reverse("territories:detail", args=["testopolis", "locality", "08"])
    assert '<svg class="territory-map"' in page
    assert f'<a href="{kennedy_url}" aria-label="Kennedy (08)">' in page
    assert page.index(">08</a>") < page.index(">11</a>")  # sorted by code
    assert "Which territory is this point in?" in page
    assert "territories/territories.css" in page
    assert "style=" not in page
    assert "<script" not in page


def test_city_page_table_has_parent_population_area_and_density(en, world):
    page = en.get(reverse("territories:city", args=["testopolis"]) + "?layer=neighbourhood")
    html = page.content.decode()
    assert 'aria-current="page">Barrios</a>' in html
    assert (
        f'href="{reverse("territories:detail", args=["testopolis", "locality", "08"])}">Kennedy'
        in html
    )
    assert "100,000" in html  # population
    area = world.timiza.area_km2
    assert f"{area:,.2f}" in html
    assert f"{100_000 / area:,.0f}" in html  # density


def test_city_page_locates_a_point(en, world):
    url = reverse("territories:city", args=["testopolis"])
    page = en.get(url, {"lat": "4.60", "lon": "-74.18"}).content.decode()
    assert 'data-testid="locate-result"' in page
    assert ">Kennedy</a>" in page
    assert ">Timiza</a>" in page
    assert '<circle class="point"' in page
    outside = en.get(url, {"lat": "10", "lon": "-74.18"}).content.decode()
    assert "This point is outside every territory of Testópolis." in outside


@pytest.mark.parametrize(
    ("query", "message"),
    [
        ({"lat": "91", "lon": "-74"}, "The latitude goes from -90 to 90."),
        ({"lat": "4.6", "lon": "-200"}, "The longitude goes from -180 to 180."),
        ({"lat": "north", "lon": "-74"}, "Enter the latitude as a number of degrees"),
        ({"lat": "4.6"}, "This field is required."),
        ({"lat": "nan", "lon": "-74"}, "Enter the latitude as a number of degrees"),
    ],
)
def test_city_page_explains_a_bad_point(en, world, query, message):
    response = en.get(reverse("territories:city", args=["testopolis"]), query)
    assert response.status_code == 200
    page = response.content.decode()
    assert message in page
    assert "locate-result" not in page


def test_city_page_pages_a_long_table(en, world):
    layer = LayerFactory(city=world.city, slug="blocks", name="Blocks")
    for i in range(105):
        TerritoryFactory(
            layer=layer,
            code=f"{i:03d}",
            name=f"Block {i}",
            bounds=(-74 + i * 0.001, 4.5, -73.999 + i * 0.001, 4.501),
        )
    url = reverse("territories:city", args=["testopolis"])
    first = en.get(url, {"layer": "blocks"}).content.decode()
    assert "Page 1 of 2" in first
    assert ">099</a>" in first
    assert ">100</a>" not in first
    assert len(re.findall(r'<a href="[^"]+" aria-label="[^"]+" tabindex="-1">', first)) == 105
    second = en.get(url, {"layer": "blocks", "page": "2"}).content.decode()
    assert ">104</a></td>" in second
    assert ">000</a></td>" not in second


def test_city_page_map_is_cached_until_the_next_import(en, world):
    url = reverse("territories:city", args=["testopolis"])
    assert "Kennedy (08)" in en.get(url).content.decode()
    world.kennedy.name = "Renamed"
    world.kennedy.save(update_fields=["name"])
    assert 'aria-label="Kennedy (08)"' in en.get(url).content.decode()
    TerritoryFactory(layer=world.localities, code="99", name="New", bounds=(-74.0, 4.7, -73.9, 4.8))
    page = en.get(url).content.decode()
    assert 'aria-label="Renamed (08)"' in page
    assert 'aria-label="New (99)"' in page


@pytest.mark.parametrize(
    "url",
    [
        "/territories/atlantis/",
        "/territories/testopolis/?layer=nope",
        "/territories/testopolis/locality/99/",
        "/territories/testopolis/nope/08/",
    ],
)
def test_unknown_pages_are_404(en, world, url):
    assert en.get(url).status_code == 404


def test_detail_page_shows_the_facts_and_the_map(en, world):
    world.timiza.population_source = "DANE"
    world.timiza.population_year = 2018
    world.timiza.repaired = True
    world.timiza.save()
    url = reverse("territories:detail", args=["testopolis", "neighbourhood", "0801"])
    response = en.get(url)
    assert response.status_code == 200
    page = response.content.decode()
    assert "<h1>Timiza</h1>" in page
    kennedy_url = reverse("territories:detail", args=["testopolis", "locality", "08"])
    assert f'<a href="{kennedy_url}">Kennedy</a>' in page
    assert "100,000" in page
    assert "(DANE, 2018)" in page
    assert f"{world.timiza.area_km2:,.2f} km²" in page
    assert "people per km²" in page
    assert "Repaired" in page
    assert '<path class="highlight"' in page


def test_detail_page_lists_children_and_neighbours(en, world):
    url = reverse("territories:detail", args=["testopolis", "locality", "08"])
    page = en.get(url).content.decode()
    timiza_url = reverse("territories:detail", args=["testopolis", "neighbourhood", "0801"])
    assert "Territories inside" in page
    assert f'<a href="{timiza_url}">Timiza</a>' in page
    assert "Highlighted among 1 neighbour in the same layer." in page
    suba_url = reverse("territories:detail", args=["testopolis", "locality", "11"])
    assert f'<a href="{suba_url}" aria-label="Suba (11)">' in page


def test_detail_page_without_population_or_parent(en, world):
    world.suba.population = None
    world.suba.save(update_fields=["population"])
    page = en.get(
        reverse("territories:detail", args=["testopolis", "locality", "11"])
    ).content.decode()
    assert "Unknown" in page
    assert "As published" in page


def test_pages_are_public_and_in_spanish_by_default(client, world, supervisor):
    page = client.get(reverse("territories:city", args=["testopolis"]))
    assert page.status_code == 200
    assert page["Content-Language"] == "es"
    login(client, supervisor)
    assert client.get(reverse("territories:index")).status_code == 200


def test_pages_only_answer_get(client, world):
    assert client.post(reverse("territories:index")).status_code == 405
