"""The recommendation (``recommend_units``) and the fleet index behind it (``fleet.py``)."""

import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from convive.territories.models import Territory
from convive.territories.tests.factories import CityFactory, TerritoryFactory
from convive.units import fleet
from convive.units.actions import check_change_unit_status, check_record_position
from convive.units.models import Capability, Unit
from convive.units.queries import list_units, recommend_units
from convive.units.tests.conftest import KENNEDY_POINT
from convive.units.tests.factories import UnitFactory

pytestmark = pytest.mark.usefixtures("english")

# Along the parallel of KENNEDY_POINT, 0.01° of longitude is about 1.1 km.
NEAR = (-74.14, 4.60)
MIDDLE = (-74.12, 4.60)
FAR = (-74.08, 4.60)


def call_signs(recommendations) -> list[str]:
    return [r.unit.call_sign for r in recommendations]


def recommend(world, capabilities=("patrol",), **kwargs):
    lon, lat = KENNEDY_POINT
    return recommend_units(world.city, lon=lon, lat=lat, capabilities=capabilities, **kwargs)


@pytest.fixture
def patrols(world):
    return [
        UnitFactory(institution=world.police, call_sign="far", at=FAR),
        UnitFactory(institution=world.police, call_sign="near", at=NEAR),
        UnitFactory(institution=world.police, call_sign="middle", at=MIDDLE),
    ]


def test_the_nearest_capable_available_unit_comes_first(world, patrols):
    recommendations = recommend(world)

    assert call_signs(recommendations) == ["near", "middle", "far"]
    first = recommendations[0]
    assert 1_000 < first.distance_m < 1_200
    # 1.1 km x 1.35 at 30 km/h: about 3 minutes
    assert 160 < first.eta_seconds < 200
    assert first.reasons == ["1.1 km, about 3 min", "has patrol", "available"]


def test_k_limits_the_list(world, patrols):
    assert call_signs(recommend(world, k=2)) == ["near", "middle"]
    assert call_signs(recommend(world, k=1)) == ["near"]


def test_a_unit_taken_between_the_index_read_and_the_read_back_gives_its_place(world, patrols):
    """Another dispatcher's commit can land after this call's index read: the unit read back is
    no longer available, so it is dropped and the next one fills the list."""
    index = fleet.fleet_index(world.city.pk)  # read now, before the change
    Unit.objects.filter(call_sign="near").update(status=Unit.Status.DISPATCHED)
    Unit.objects.filter(call_sign="far").update(capabilities=["ambulance"])
    lon, lat = KENNEDY_POINT
    found = recommend_units(index, lon=lon, lat=lat, capabilities=["patrol"], k=2)
    assert call_signs(found) == ["middle"]  # not "near" (taken), not "far" (no patrol now)


def test_a_unit_missing_a_capability_is_left_out(world, patrols):
    UnitFactory(
        institution=world.police,
        call_sign="mujer",
        at=FAR,
        capabilities=["patrol", Capability.WOMEN_CARE],
    )
    assert call_signs(recommend(world, capabilities=["patrol", "women_care"])) == ["mujer"]
    assert recommend(world, capabilities=["ambulance"]) == []
    assert recommend(world, capabilities=["teleport"]) == []


def test_busy_units_are_left_out_unless_asked_for_and_then_come_last(world, patrols):
    near = patrols[1]
    near.status = Unit.Status.EN_ROUTE
    near.current_load = 2
    near.save()
    UnitFactory(institution=world.police, call_sign="off", at=NEAR, status="out_of_service")
    UnitFactory(institution=world.police, call_sign="retired", at=NEAR, active=False)
    UnitFactory(institution=world.police, call_sign="sent", at=NEAR, status="dispatched")

    assert call_signs(recommend(world)) == ["middle", "far"]
    with_busy = recommend(world, include_busy=True)
    assert call_signs(with_busy) == ["middle", "far", "near"]
    assert with_busy[2].reasons[2:] == [
        "en route, ranked after available units",
        "2 incidents in hand",
    ]


def test_incidents_in_hand_cost_time(world, patrols):
    patrols[1].current_load = 3  # near (3 min), but 3 incidents in hand: 9 more minutes
    patrols[1].save()
    assert call_signs(recommend(world)) == ["middle", "near", "far"]


def test_the_speed_of_the_kind_counts(world):
    UnitFactory(institution=world.police, kind=Unit.Kind.FOOT_PATROL, call_sign="a pie", at=NEAR)
    UnitFactory(institution=world.police, kind=Unit.Kind.MOTORCYCLE, call_sign="moto", at=MIDDLE)
    assert call_signs(recommend(world)) == ["moto", "a pie"]


def test_an_old_position_falls_back_to_the_home_centroid_with_the_reason(world, settings):
    settings.UNIT_POSITION_MAX_AGE_MINUTES = 10
    # Last seen next to the point 25 minutes ago; its home, Suba, is far away.
    UnitFactory(
        institution=world.police,
        call_sign="old",
        at=KENNEDY_POINT,
        position_at=timezone.now() - timedelta(minutes=25),
        home_territory=world.suba,
    )
    UnitFactory(institution=world.police, call_sign="fresh", at=MIDDLE)
    UnitFactory(institution=world.police, call_sign="never", home_territory=world.kennedy)
    UnitFactory(institution=world.police, call_sign="nowhere")  # no position, no home: left out

    recommendations = recommend(world)

    assert call_signs(recommendations) == ["never", "fresh", "old"]
    old = recommendations[2]
    assert old.reasons[-1] == "position 25 min old: placed at its home territory"
    assert 16_000 < old.distance_m < 17_000  # Suba's centre, not the old fix
    assert recommendations[0].reasons[-1] == "no position yet: placed at its home territory"

    settings.UNIT_POSITION_MAX_AGE_MINUTES = 30
    assert call_signs(recommend(world))[0] == "old"


def test_units_of_another_city_are_not_recommended(world, patrols):
    elsewhere = CityFactory(slug="otra")
    TerritoryFactory(layer__city=elsewhere, bounds=(-74.2, 4.5, -74.0, 4.7))
    assert recommend_units(elsewhere, lon=-74.15, lat=4.6, capabilities=["patrol"]) == []


def test_the_list_of_units(world, patrols):
    assert [u.call_sign for u in list_units(world.city)] == ["far", "middle", "near"]


# --- The index: kept per process, brought up to date by the database's write stamps ----------
#
# "Another process" is any write that sends this process nothing: a bare ``update()`` or SQL
# (no signal, no ``fleet_changed``). Only the row and the stamp its trigger sets reach the index.


@pytest.fixture
def committed(world, patrols):
    """``world`` and the three patrols, committed (``django_db(transaction=True)``)."""
    fleet._forget()
    return world, patrols


def positions(world) -> dict[int, float]:
    index = fleet.fleet_index(world.city.pk)
    return {int(pk): float(lon) for pk, lon in zip(index.ids, index.lon, strict=True)}


def another_process(unit: Unit, **values) -> None:
    """Write the unit as another process would: only the row changes (its trigger stamps it)."""
    assert Unit.objects.filter(pk=unit.pk).update(**values) == 1


@pytest.mark.django_db(transaction=True)
def test_the_index_is_kept_and_each_use_reads_only_what_changed(
    committed, django_assert_num_queries
):
    world, patrols = committed
    with django_assert_num_queries(1):
        first = fleet.fleet_index(world.city.pk)
    assert first.last_read == 3  # built: every unit
    with django_assert_num_queries(1):  # the units written since: none
        again = fleet.fleet_index(world.city.pk)
    assert again.last_read == 0
    assert again.ids is first.ids  # the arrays are kept, not rebuilt
    with django_assert_num_queries(2):  # that read, and the k units themselves
        assert call_signs(recommend(world))[0] == "near"

    another_process(patrols[0], last_lon=-74.151)
    with django_assert_num_queries(1):
        assert fleet.fleet_index(world.city.pk).last_read == 1  # that unit alone
    assert fleet.fleet_index(world.city.pk).last_read == 0  # and never again

    another_process(patrols[0], current_load=1)
    another_process(patrols[2], last_lon=-74.13)
    assert fleet.fleet_index(world.city.pk).last_read == 2
    with transaction.atomic(durable=True):
        check_record_position(
            patrols[1], lon=-74.14, lat=4.6, recorded_at=timezone.now(), source="api"
        )
    assert fleet.fleet_index(world.city.pk).last_read == 1


@pytest.mark.django_db(transaction=True)
def test_a_committed_position_moves_the_unit_in_the_index(committed):
    world, patrols = committed
    far = patrols[0]
    assert call_signs(recommend(world))[0] == "near"
    at = timezone.now()

    with transaction.atomic(durable=True):
        check_record_position(far, lon=-74.151, lat=4.60, recorded_at=at, source="mqtt")

    assert call_signs(recommend(world))[0] == "far"
    assert positions(world)[far.pk] == pytest.approx(-74.151)
    index = fleet.fleet_index(world.city.pk)
    assert index.position_at[index.row_of[far.pk]] == pytest.approx(at.timestamp(), abs=0.01)


@pytest.mark.django_db(transaction=True)
def test_a_committed_status_change_takes_the_unit_out(committed, dispatcher):
    world, patrols = committed
    assert call_signs(recommend(world))[0] == "near"

    with transaction.atomic(durable=True):
        check_change_unit_status(dispatcher, patrols[1], status="dispatched", expected_version=1)

    assert call_signs(recommend(world)) == ["middle", "far"]


@pytest.mark.django_db(transaction=True)
def test_a_position_another_process_commits_is_seen_by_the_next_recommendation(committed):
    """As the MQTT listener's."""
    world, patrols = committed
    assert call_signs(recommend(world))[0] == "near"

    another_process(patrols[0], last_lon=-74.151, last_position_at=timezone.now())

    assert call_signs(recommend(world))[0] == "far"


@pytest.mark.django_db(transaction=True)
def test_units_another_process_takes_out_are_not_recommended_next(committed):
    """Another server's dispatch, an administrator's edits: never offered as available."""
    world, patrols = committed
    far, near, middle = patrols
    assert call_signs(recommend(world)) == ["near", "middle", "far"]

    another_process(near, status=Unit.Status.DISPATCHED)
    assert call_signs(recommend(world)) == ["middle", "far"]
    another_process(middle, active=False)
    another_process(far, capabilities=["ambulance"])
    assert recommend(world) == []
    assert call_signs(recommend(world, include_busy=True)) == []  # dispatched is not en route

    another_process(near, status=Unit.Status.AVAILABLE)
    assert call_signs(recommend(world)) == ["near"]


@pytest.mark.django_db(transaction=True)
def test_units_another_process_adds_or_deletes_are_seen(committed, monkeypatch):
    world, patrols = committed
    recommend(world)

    Unit.objects.bulk_create(  # no signal
        [
            Unit(
                institution=world.police,
                call_sign="new",
                kind="patrol_car",
                capabilities=["patrol"],
                last_lon=-74.149,
                last_lat=4.6,
                last_position_at=timezone.now(),
            )
        ]
    )
    assert call_signs(recommend(world))[0] == "new"

    with connection.cursor() as cursor:  # no signal either
        cursor.execute("DELETE FROM units_unit WHERE id = %s", [patrols[1].pk])
    # Not in the stamps: the read-back of the k units leaves it out...
    assert call_signs(recommend(world)) == ["new", "middle", "far"]
    assert patrols[1].pk in fleet.fleet_index(world.city.pk).row_of
    # ...and the periodic rebuild drops it.
    monkeypatch.setattr(fleet, "REBUILD_SECONDS", 0.0)
    assert patrols[1].pk not in fleet.fleet_index(world.city.pk).row_of


@pytest.mark.django_db(transaction=True)
def test_new_and_deleted_units_are_seen(committed):
    world, patrols = committed
    recommend(world)
    with transaction.atomic(durable=True):
        UnitFactory(institution=world.police, call_sign="new", at=KENNEDY_POINT)
    assert call_signs(recommend(world))[0] == "new"

    with transaction.atomic(durable=True):
        Unit.objects.filter(call_sign="new").delete()
        patrols[1].delete()
    assert call_signs(recommend(world)) == ["middle", "far"]
    assert len(fleet.fleet_index(world.city.pk)) == 2  # rebuilt after this process's deletion


@pytest.mark.django_db(transaction=True)
def test_an_uncommitted_write_is_never_kept(committed):
    world, patrols = committed
    kept = fleet.fleet_index(world.city.pk)

    with transaction.atomic():
        check_record_position(
            patrols[0], lon=-74.151, lat=4.60, recorded_at=timezone.now(), source="mqtt"
        )
        assert call_signs(recommend(world))[0] == "far"  # this transaction sees its own write
        transaction.set_rollback(True)

    assert call_signs(recommend(world))[0] == "near"
    assert fleet.fleet_index(world.city.pk).lon is kept.lon


def on_another_connection(write) -> None:
    """Run ``write`` in a thread, on its own database connection, and wait for it."""
    errors: list[BaseException] = []

    def run() -> None:
        try:
            write()
        except BaseException as error:  # reported by the caller's thread
            errors.append(error)
        finally:
            connection.close()

    thread = threading.Thread(target=run)
    thread.start()
    thread.join(timeout=30)
    assert errors == []


@pytest.mark.django_db(transaction=True)
def test_a_unit_written_after_a_read_in_the_same_transaction_is_seen(committed):
    """The transaction that read (and kept) the index writes a unit afterwards, with no
    ``fleet_changed``: the next read finds it."""
    world, patrols = committed
    with transaction.atomic(durable=True):
        assert call_signs(recommend(world))[0] == "near"
        another_process(patrols[0], last_lon=-74.151)

    assert call_signs(recommend(world))[0] == "far"


@pytest.mark.django_db(transaction=True)
def test_so_is_one_whose_transaction_began_before_a_later_commit(committed, postgres):
    """As above, but a later transaction commits before the read: the reading transaction's
    own id is then older than the read's horizon, and must still be read next time."""
    world, patrols = committed
    far, _near, middle = patrols
    with transaction.atomic(durable=True):
        Territory.objects.filter(pk=world.suba.pk).update(name="Suba")  # this transaction's id
        on_another_connection(lambda: another_process(middle, current_load=1))
        assert call_signs(recommend(world))[0] == "near"
        another_process(far, last_lon=-74.151)

    assert call_signs(recommend(world))[0] == "far"


@pytest.mark.django_db(transaction=True)
def test_a_write_that_commits_after_a_later_one_is_still_seen(committed, postgres):
    """Transaction A writes a unit, B writes another and commits, the index reads (seeing B,
    not A), then A commits: the next read finds A's row although its stamp is older than B's."""
    world, patrols = committed
    far, near, _middle = patrols
    recommend(world)
    written, release = threading.Event(), threading.Event()
    errors: list[BaseException] = []

    def slow_writer() -> None:
        try:
            with transaction.atomic(durable=True):
                another_process(near, status=Unit.Status.OUT_OF_SERVICE)
                written.set()
                assert release.wait(timeout=30)
        except BaseException as error:  # reported by the main thread
            errors.append(error)
            written.set()
        finally:
            connection.close()

    thread = threading.Thread(target=slow_writer)
    thread.start()
    try:
        assert written.wait(timeout=30)
        another_process(far, last_lon=-74.151)  # B, stamped after A, committed first
        assert call_signs(recommend(world)) == ["far", "near", "middle"]  # A not committed yet
    finally:
        release.set()
        thread.join(timeout=30)
    assert errors == []

    assert call_signs(recommend(world)) == ["far", "middle"]
