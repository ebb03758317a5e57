"""``/api/v1/units`` through the test client: the board, status, AVL batches and tracks."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import login
from convive.institutions.tests.factories import InstitutionFactory
from convive.units.models import Unit, UnitPosition
from convive.units.tests.conftest import KENNEDY_POINT, SUBA_POINT
from convive.units.tests.factories import UnitFactory, UnitPositionFactory

URL = "/api/v1/units"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}
OUTSIDE_POINT = (-75.50, 6.25)


def post(client, path: str, payload):
    return client.post(f"{URL}{path}", json.dumps(payload), content_type="application/json", **EN)


def get(client, path: str = "", **params):
    return client.get(f"{URL}{path}", params, **EN)


@pytest.fixture
def unit(world):
    return UnitFactory(institution=world.police, call_sign="PAT-08-1", at=KENNEDY_POINT)


def test_the_board_shows_the_units_one_may_see(client, dispatcher, supervisor, world, unit):
    ambulance = UnitFactory(
        institution=InstitutionFactory(city=world.city), kind=Unit.Kind.AMBULANCE
    )
    UnitFactory()  # another city
    login(client, dispatcher)  # the secretariat dispatches the whole city's units
    response = get(client)
    assert response.status_code == 200
    assert {u["id"] for u in response.json()["data"]} == {unit.pk, ambulance.pk}
    assert [u["id"] for u in get(client, kind="ambulance").json()["data"]] == [ambulance.pk]
    assert [u["id"] for u in get(client, institution=world.police.pk).json()["data"]] == [unit.pk]
    assert get(client, status="flying").status_code == 400
    login(client, supervisor)  # a police supervisor: the police's units
    assert [u["id"] for u in get(client).json()["data"]] == [unit.pk]
    assert get(client, f"/{ambulance.pk}").status_code == 404
    assert get(client, f"/{unit.pk}").json()["call_sign"] == "PAT-08-1"


def test_status_change_and_its_conflict(client, dispatcher, unit):
    login(client, dispatcher)
    path = f"/{unit.pk}/status"
    ok = post(client, path, {"status": "out_of_service", "expected_version": 1, "reason": "Llanta"})
    assert ok.status_code == 200, ok.json()
    assert (ok.json()["status"], ok.json()["version"]) == ("out_of_service", 2)
    stale = post(client, path, {"status": "available", "expected_version": 1})
    assert stale.status_code == 409
    assert stale.json()["current"]["status"] == "out_of_service"
    no_reason = post(client, f"/{unit.pk}/status", {"status": "available", "expected_version": 2})
    assert no_reason.status_code == 200


def test_a_field_unit_changes_only_the_unit_it_crews(client, field_unit, world, unit):
    login(client, field_unit)
    payload = {"status": "out_of_service", "expected_version": 1, "reason": "Fin de turno"}
    assert post(client, f"/{unit.pk}/status", payload).status_code == 404
    unit.crew.add(field_unit)
    assert post(client, f"/{unit.pk}/status", payload).status_code == 200
    assert get(client).status_code == 403  # the board is the console's


def fix(unit, point=KENNEDY_POINT, **overrides) -> dict:
    return {
        "unit_id": unit.pk,
        "lon": point[0],
        "lat": point[1],
        "recorded_at": timezone.now().isoformat(),
        "speed_kmh": 30,
        "heading": 90,
        "accuracy_m": 5,
        **overrides,
    }


def test_a_malformed_batch_keeps_the_good_items(client, dispatcher, world, unit):
    stranger = UnitFactory()  # a unit of another city: not the dispatcher's
    login(client, dispatcher)
    batch = [
        fix(unit, SUBA_POINT),
        fix(unit, OUTSIDE_POINT),
        fix(unit, lat="north"),
        fix(unit, recorded_at="yesterday"),
        fix(stranger),
        fix(unit, unit_id="PAT"),
        fix(unit, speed_kmh=900),
    ]
    response = post(client, "/positions", batch)
    assert response.status_code == 200, response.json()
    body = response.json()
    assert (body["accepted"], body["refused"]) == (1, 6)
    items = body["data"]
    assert [i["index"] for i in items] == list(range(7))
    assert items[0]["ok"]
    assert items[0]["moved"]
    assert [i["field"] for i in items[1:]] == [
        "lon",
        "lat",
        "recorded_at",
        "unit_id",
        "unit_id",
        "speed_kmh",
    ]
    assert "outside" in items[1]["message"]
    assert UnitPosition.objects.count() == 1
    unit.refresh_from_db()
    assert (unit.last_lon, unit.last_lat) == SUBA_POINT


def test_a_batch_that_is_not_a_list_is_refused(client, dispatcher, unit):
    login(client, dispatcher)
    assert post(client, "/positions", {"unit_id": unit.pk}).status_code == 422


def test_who_may_post_positions(client, field_unit, analyst, unit):
    login(client, field_unit)
    refused = post(client, "/positions", [fix(unit)]).json()
    assert refused["data"][0]["field"] == "unit_id"
    unit.crew.add(field_unit)
    assert post(client, "/positions", [fix(unit)]).json()["accepted"] == 1
    login(client, analyst)
    assert post(client, "/positions", [fix(unit)]).status_code == 403


def test_the_track_since_a_time(client, dispatcher, unit):
    now = timezone.now()
    UnitPositionFactory(unit=unit, recorded_at=now - timedelta(hours=3))
    recent = UnitPositionFactory(unit=unit, recorded_at=now - timedelta(minutes=5))
    login(client, dispatcher)
    response = get(client, f"/{unit.pk}/track")
    assert response.json()["count"] == 1
    assert response.json()["data"][0]["lon"] == recent.lon
    since = (now - timedelta(hours=4)).isoformat()
    assert get(client, f"/{unit.pk}/track", since=since).json()["count"] == 2
    bad = get(client, f"/{unit.pk}/track", since="2026-01-01T00:00")
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "since")


def test_the_board_reads_a_fixed_number_of_queries(
    client, dispatcher, world, django_assert_max_num_queries
):
    for _ in range(30):
        UnitFactory(institution=world.police)
    login(client, dispatcher)
    with django_assert_max_num_queries(12):
        assert get(client).json()["count"] == 30
