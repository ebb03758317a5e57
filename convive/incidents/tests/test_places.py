"""The call form's place type-ahead (``convive.incidents.places``)."""

import pytest
from django.urls import reverse

from conftest import login
from convive.incidents.places import MAX_PLACES, fold, search_places
from convive.justice.tests.factories import JusticeServiceFactory
from convive.territories.actions import do_refresh_city_index
from convive.territories.tests.factories import TerritoryFactory


def names(places) -> list[str]:
    return [place.name for place in places]


def test_fold_drops_case_accents_and_punctuation():
    assert fold("  Álvaro   OBREGÓN, Calle 10 # 3-2 ") == "alvaro obregon calle 10 3-2"


@pytest.mark.parametrize("text", ["", "t", " T "])
def test_less_than_two_letters_finds_nothing(world, text):
    assert search_places(world.city, text) == []


def test_a_neighbourhood_is_found_by_the_start_of_its_name_without_accents(world):
    world.timiza.name = "Timizá"
    world.timiza.save()
    found = search_places(world.city, "TIMIZA")
    assert names(found) == ["Timizá"]
    place = found[0]
    assert (place.kind, place.precise) == ("territory", False)
    assert (place.lon, place.lat) == (world.timiza.centroid_lon, world.timiza.centroid_lat)
    assert place.detail == "Barrios · Kennedy"  # its layer and its locality


def test_every_word_must_start_a_word_of_the_place(world):
    assert names(search_places(world.city, "casa kennedy")) == ["Casa de Justicia de Kennedy"]
    assert search_places(world.city, "casa suba") == []
    assert search_places(world.city, "ennedy") == []  # inside a word: no


def test_a_service_is_a_precise_point_and_a_name_that_starts_with_the_text_comes_first(world):
    found = search_places(world.city, "kennedy")
    assert names(found) == ["Kennedy", "Casa de Justicia de Kennedy", "Timiza"]
    service = found[1]
    assert (service.kind, service.precise, service.lon, service.lat) == (
        "service",
        True,
        -74.15,
        4.60,
    )


def test_a_place_of_another_city_is_never_offered(world):
    other = TerritoryFactory(name="Kennedy Norte")  # its own city
    assert other.city != world.city
    assert "Kennedy Norte" not in names(search_places(world.city, "kennedy"))


def test_at_most_eight_and_shorter_names_first(world):
    for number in range(12):
        JusticeServiceFactory(
            city=world.city, territory=world.suba, name=f"CAI Suba {'x' * number}"
        )
    found = search_places(world.city, "cai")
    assert len(found) == MAX_PLACES
    assert names(found)[0] == "CAI Suba "
    assert [len(n) for n in names(found)] == sorted(len(n) for n in names(found))


def test_a_renamed_territory_is_found_by_its_new_name(world):
    assert names(search_places(world.city, "timiza")) == ["Timiza"]
    world.timiza.name = "Timiza Norte"
    world.timiza.save()
    do_refresh_city_index(world.city.pk)  # what the admin site and the importer do
    assert names(search_places(world.city, "timiza")) == ["Timiza Norte"]


def test_the_call_form_asks_the_places_of_its_own_city(client, call_taker, world):
    login(client, call_taker)
    url = reverse("console:places")
    body = client.get(url, {"q": "casa kenn"}).json()
    assert body["count"] == 1
    assert body["data"] == [
        {
            "name": "Casa de Justicia de Kennedy",
            "detail": body["data"][0]["detail"],
            "kind": "service",
            "lon": -74.15,
            "lat": 4.60,
            "precise": True,
            "address": f"Casa de Justicia de Kennedy, {world.justice_house.address}",
        }
    ]
    timiza = client.get(url, {"q": "timi"}).json()["data"][0]
    assert (timiza["address"], timiza["precise"]) == ("Timiza", False)


@pytest.mark.parametrize("query", [{}, {"q": ""}, {"q": "x" * 121}])
def test_a_missing_or_overlong_query_is_refused(client, call_taker, world, query):
    login(client, call_taker)
    response = client.get(reverse("console:places"), query)
    assert response.status_code == 400
    assert "q" in response.json()["errors"]


def test_only_those_who_take_calls_may_ask(client, citizen, field_unit, world):
    url = reverse("console:places")
    assert client.get(url, {"q": "timi"}).status_code in (302, 403)
    for user in (citizen, field_unit):
        login(client, user)
        assert client.get(url, {"q": "timi"}).status_code == 403
