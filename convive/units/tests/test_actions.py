"""Positions, status changes and the fleet's administration (``convive.units.actions``)."""

import threading
from contextlib import contextmanager
from datetime import datetime, timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from convive.core.errors import ActionError
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.institutions.tests.factories import InstitutionFactory
from convive.territories.tests.factories import CityFactory, TerritoryFactory
from convive.units.actions import (
    PositionInput,
    UnitConflictError,
    check_change_unit_status,
    check_create_unit,
    check_record_position,
    check_record_positions_batch,
    check_update_unit,
)
from convive.units.models import Unit, UnitPosition
from convive.units.tests.conftest import KENNEDY_POINT, SUBA_POINT
from convive.units.tests.factories import UnitFactory

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def unit(world):
    return UnitFactory(institution=world.police, call_sign="PAT-08-1", home_territory=world.kennedy)


@contextmanager
def refused(field: str, status: int = 400):
    with pytest.raises(ActionError) as caught:
        yield caught
    assert caught.value.field == field, caught.value.message
    assert caught.value.status == status


def fix(unit, **overrides):
    lon, lat = KENNEDY_POINT
    values = {"lon": lon, "lat": lat, "recorded_at": timezone.now(), "source": "api"}
    return check_record_position(unit, **{**values, **overrides})


# --- Positions --------------------------------------------------------------------------------


def test_a_first_position_moves_the_unit_and_starts_its_track(unit):
    at = timezone.now() - timedelta(seconds=5)
    result = fix(unit, recorded_at=at, speed_kmh=42.5, heading=90, accuracy_m=8, source="mqtt")

    assert result.moved is True
    assert result.note == ""
    unit.refresh_from_db()
    assert (unit.last_lon, unit.last_lat, unit.last_position_at) == (*KENNEDY_POINT, at)
    position = UnitPosition.objects.get()
    assert (position.speed_kmh, position.heading, position.accuracy_m) == (42.5, 90, 8)
    assert position.source == UnitPosition.Source.MQTT
    assert position.stale is False


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"lon": "west"}, "lon"),
        ({"lon": None}, "lon"),
        ({"lon": float("nan")}, "lon"),
        ({"lon": 181}, "lon"),
        ({"lat": -90.5}, "lat"),
        ({"lat": True}, "lat"),
        ({"lon": 0.0, "lat": 0.0}, "lon"),  # far outside the city
        ({"lon": -73.97, "lat": 4.70}, "lon"),  # 3.3 km east of Suba
        ({"recorded_at": "2026-01-01T10:00:00Z"}, "recorded_at"),
        ({"recorded_at": datetime(2026, 1, 1, 10, 0)}, "recorded_at"),  # noqa: DTZ001 (naive)
        ({"recorded_at": timedelta(minutes=2)}, "recorded_at"),  # in the future
        ({"recorded_at": -timedelta(hours=25)}, "recorded_at"),
        ({"speed_kmh": 301}, "speed_kmh"),
        ({"speed_kmh": -1}, "speed_kmh"),
        ({"speed_kmh": "fast"}, "speed_kmh"),
        ({"heading": 361}, "heading"),
        ({"accuracy_m": -3}, "accuracy_m"),
        ({"source": "sms"}, "source"),
    ],
)
def test_a_bad_position_is_refused_naming_the_field(unit, overrides, field):
    if isinstance(overrides.get("recorded_at"), timedelta):
        overrides = {**overrides, "recorded_at": timezone.now() + overrides["recorded_at"]}
    with refused(field) as caught:
        fix(unit, **overrides)
    assert field in caught.value.message
    assert UnitPosition.objects.count() == 0
    unit.refresh_from_db()
    assert unit.last_position_at is None


def test_a_position_just_outside_the_city_or_a_clock_a_little_ahead_is_accepted(unit):
    assert fix(unit, lon=-73.99, lat=SUBA_POINT[1]).moved  # 1.1 km east of Suba's edge
    assert fix(unit, recorded_at=timezone.now() + timedelta(seconds=20)).moved


def test_a_position_outside_the_city_says_which_city(unit):
    with refused("lon") as caught:
        fix(unit, lon=-70.0, lat=5.0)
    assert "Testópolis" in caught.value.message


def test_an_older_position_is_kept_in_the_track_but_does_not_move_the_unit(unit):
    now = timezone.now()
    fix(unit, recorded_at=now - timedelta(seconds=10))
    stale = fix(unit, lon=SUBA_POINT[0], lat=SUBA_POINT[1], recorded_at=now - timedelta(seconds=60))

    assert stale.moved is False
    assert "not moved" in stale.note
    assert stale.position.stale is True
    unit.refresh_from_db()
    assert (unit.last_lon, unit.last_lat) == KENNEDY_POINT
    assert unit.last_position_at == now - timedelta(seconds=10)
    assert UnitPosition.objects.filter(unit=unit).count() == 2


def test_a_batch_keeps_the_good_positions_and_refuses_the_bad_by_index(world, unit):
    other = UnitFactory(institution=world.police, call_sign="MOT-11-1")
    now = timezone.now()
    items = [
        PositionInput(unit, *KENNEDY_POINT, now - timedelta(seconds=30), "mqtt"),
        PositionInput(unit, 500, 4.6, now, "mqtt"),
        PositionInput(other, *SUBA_POINT, now - timedelta(seconds=5), "mqtt", speed_kmh=999),
        PositionInput(unit, *SUBA_POINT, now - timedelta(seconds=10), "mqtt"),
        PositionInput(unit, -74.16, 4.61, now - timedelta(seconds=20), "mqtt"),  # older: stale
        PositionInput(other, *SUBA_POINT, now - timedelta(seconds=3), "mqtt"),
    ]
    results = check_record_positions_batch(items)

    assert [r.index for r in results] == [0, 1, 2, 3, 4, 5]
    assert [r.ok for r in results] == [True, False, False, True, True, True]
    assert (results[1].error.field, results[2].error.field) == ("lon", "speed_kmh")
    assert [r.result.moved for r in results if r.ok] == [True, True, False, True]
    assert UnitPosition.objects.count() == 4
    unit.refresh_from_db()
    other.refresh_from_db()
    assert (unit.last_lon, unit.last_lat) == SUBA_POINT
    assert unit.last_position_at == now - timedelta(seconds=10)
    assert other.last_position_at == now - timedelta(seconds=3)


def test_a_position_does_not_change_the_version_people_act_on(unit):
    fix(unit)
    unit.refresh_from_db()
    assert unit.version == 1


# --- Status -----------------------------------------------------------------------------------


def audit_tags() -> list[str]:
    return list(AuditEvent.objects.order_by("seq").values_list("tag", flat=True))


def test_a_dispatcher_changes_the_status_and_it_is_audited(dispatcher, unit):
    changed = check_change_unit_status(
        dispatcher, unit, status=Unit.Status.DISPATCHED, expected_version=1
    )

    assert (changed.status, changed.version) == (Unit.Status.DISPATCHED, 2)
    unit.refresh_from_db()
    assert (unit.status, unit.version) == (Unit.Status.DISPATCHED, 2)
    event = AuditEvent.objects.filter(tag=AuditTag.UNIT_STATUS_CHANGED).get()
    assert event.data_dict == {"from": "available", "to": "dispatched", "version": 2}
    assert event.subject_id == str(unit.pk)
    assert event.actor_username == "despachador"


def test_the_whole_round_of_a_unit(dispatcher, unit):
    for status in ["dispatched", "en_route", "on_scene", "available"]:
        unit = check_change_unit_status(
            dispatcher, unit, status=status, expected_version=unit.version
        )
    assert unit.version == 5


@pytest.mark.parametrize(
    ("current", "wanted"),
    [("out_of_service", "on_scene"), ("en_route", "dispatched"), ("available", "available")],
)
def test_a_status_that_cannot_follow_is_refused(dispatcher, world, current, wanted):
    unit = UnitFactory(institution=world.police, status=current)
    with refused("status", status=409):
        check_change_unit_status(dispatcher, unit, status=wanted, expected_version=1)
    assert AuditEvent.objects.filter(tag=AuditTag.UNIT_STATUS_CHANGED).count() == 0


def test_an_unknown_status_is_refused(dispatcher, unit):
    with refused("status"):
        check_change_unit_status(dispatcher, unit, status="parked", expected_version=1)


def test_going_out_of_service_needs_a_reason(dispatcher, unit):
    with refused("reason"):
        check_change_unit_status(dispatcher, unit, status="out_of_service", expected_version=1)
    check_change_unit_status(
        dispatcher, unit, status="out_of_service", expected_version=1, reason="Pinchazo"
    )
    assert AuditEvent.objects.filter(tag=AuditTag.UNIT_STATUS_CHANGED).get().reason == "Pinchazo"


def test_a_stale_version_is_a_conflict_with_the_current_state(dispatcher, unit):
    seen_by_other = Unit.objects.get(pk=unit.pk)
    check_change_unit_status(dispatcher, unit, status="dispatched", expected_version=1)

    with refused("expected_version", status=409) as caught:
        check_change_unit_status(dispatcher, unit, status="out_of_service", expected_version=1)
    assert caught.value.current["status"] == "dispatched"
    assert caught.value.current["version"] == 2
    assert "PAT-08-1" in caught.value.message

    # A caller that read the unit before the change, and holds no lock, loses too.
    with pytest.raises(UnitConflictError) as caught:
        check_change_unit_status(dispatcher, seen_by_other, status="en_route", expected_version=1)
    assert caught.value.current["version"] == 2
    unit.refresh_from_db()
    assert (unit.status, unit.version) == ("dispatched", 2)


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_at_once_exactly_one_wins(postgres, dispatcher, world):
    unit = UnitFactory(institution=world.police)
    start = threading.Barrier(2)
    outcomes: list[str] = []
    conflicts: list[UnitConflictError] = []
    errors: list[BaseException] = []

    def act(status: str) -> None:
        try:
            start.wait(timeout=30)
            with transaction.atomic(durable=True):
                # As the API will: the row lock first, then the action with the version seen.
                locked = Unit.objects.select_for_update().get(pk=unit.pk)
                check_change_unit_status(dispatcher, locked, status=status, expected_version=1)
            outcomes.append(status)
        except UnitConflictError as conflict:
            conflicts.append(conflict)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=act, args=(s,)) for s in ("dispatched", "out_of_service")]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert errors == [] or all(isinstance(e, ActionError) for e in errors)
    assert len(outcomes) + len(conflicts) + len(errors) == 2
    assert len(outcomes) == 1
    unit.refresh_from_db()
    assert unit.version == 2
    assert unit.status == outcomes[0]
    assert AuditEvent.objects.filter(tag=AuditTag.UNIT_STATUS_CHANGED).count() == 1


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_without_row_locks_still_give_one_winner(postgres, dispatcher, world):
    unit = UnitFactory(institution=world.police)
    seen = [Unit.objects.get(pk=unit.pk), Unit.objects.get(pk=unit.pk)]
    start = threading.Barrier(2)
    outcomes: list[str] = []
    conflicts: list[UnitConflictError] = []

    def act(copy: Unit, status: str) -> None:
        try:
            start.wait(timeout=30)
            with transaction.atomic(durable=True):
                check_change_unit_status(dispatcher, copy, status=status, expected_version=1)
            outcomes.append(status)
        except UnitConflictError as conflict:
            conflicts.append(conflict)
        finally:
            connection.close()

    threads = [
        threading.Thread(target=act, args=(copy, status))
        for copy, status in zip(seen, ("dispatched", "en_route"), strict=True)
    ]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)

    assert (len(outcomes), len(conflicts)) == (1, 1)
    assert conflicts[0].current["status"] == outcomes[0]
    unit.refresh_from_db()
    assert (unit.status, unit.version) == (outcomes[0], 2)


# --- Administration ---------------------------------------------------------------------------


def test_an_administrator_adds_a_unit_with_its_kinds_capabilities(platform_admin, world):
    unit = check_create_unit(
        platform_admin,
        institution=world.police,
        call_sign=" MOT-08-2 ",
        kind=Unit.Kind.MOTORCYCLE,
        home_territory=world.kennedy,
    )

    assert unit.call_sign == "MOT-08-2"
    assert unit.capabilities == ["patrol", "motorcycle"]
    assert (unit.status, unit.version, unit.active) == ("available", 1, True)
    event = AuditEvent.objects.filter(tag=AuditTag.UNIT_CREATED).get()
    assert event.institution_name == world.police.name


@pytest.mark.parametrize(
    ("overrides", "field", "status"),
    [
        ({"call_sign": "  "}, "call_sign", 400),
        ({"call_sign": "X" * 33}, "call_sign", 400),
        ({"call_sign": "PAT-08-1"}, "call_sign", 409),
        ({"kind": "tank"}, "kind", 400),
        ({"capabilities": ["patrol", "flying"]}, "capabilities", 400),
        ({"capabilities": "patrol"}, "capabilities", 400),
    ],
)
def test_a_bad_unit_is_refused(platform_admin, world, unit, overrides, field, status):
    values = {"call_sign": "AMB-01", "kind": Unit.Kind.AMBULANCE, **overrides}
    with refused(field, status=status):
        check_create_unit(platform_admin, institution=world.police, **values)
    assert Unit.objects.count() == 1


def test_a_home_territory_in_another_city_is_refused(platform_admin, world):
    elsewhere = TerritoryFactory(layer__city=CityFactory(slug="otra"), bounds=(0, 0, 1, 1))
    with refused("home_territory"):
        check_create_unit(
            platform_admin,
            institution=world.police,
            call_sign="PAT-1",
            kind="patrol_car",
            home_territory=elsewhere,
        )


def test_the_same_call_sign_may_serve_two_institutions(platform_admin, world, unit):
    other = InstitutionFactory(city=world.city, slug="transito")
    check_create_unit(platform_admin, institution=other, call_sign="PAT-08-1", kind="patrol_car")
    assert Unit.objects.filter(call_sign="PAT-08-1").count() == 2


def test_an_edit_is_audited_with_what_changed_and_moves_the_version(platform_admin, world, unit):
    edited = check_update_unit(
        platform_admin,
        unit,
        expected_version=1,
        capabilities=["patrol", "women_care"],
        home_territory=world.suba,
        call_sign="PAT-08-1",  # unchanged: not listed
    )

    assert edited.version == 2
    unit.refresh_from_db()
    assert (unit.capabilities, unit.home_territory, unit.version) == (
        ["patrol", "women_care"],
        world.suba,
        2,
    )
    event = AuditEvent.objects.filter(tag=AuditTag.UNIT_UPDATED).get()
    assert event.data_dict["changes"] == {
        "capabilities": [["patrol"], ["patrol", "women_care"]],
        "home_territory": [world.kennedy.pk, world.suba.pk],
    }


def test_an_edit_that_changes_nothing_records_nothing(platform_admin, unit):
    assert check_update_unit(platform_admin, unit, expected_version=1, active=True).version == 1
    assert AuditEvent.objects.filter(tag=AuditTag.UNIT_UPDATED).count() == 0


def test_an_edit_on_a_stale_version_is_a_conflict(platform_admin, dispatcher, unit):
    stale = Unit.objects.get(pk=unit.pk)
    check_change_unit_status(dispatcher, unit, status="dispatched", expected_version=1)
    with refused("expected_version", status=409):
        check_update_unit(platform_admin, stale, expected_version=1, active=False)
    with refused("expected_version", status=409):
        check_update_unit(platform_admin, stale, expected_version=2, active=False)
    unit.refresh_from_db()
    assert unit.active is True
