"""Travel estimates learned from the city's own trips: the distance a dispatch records, the
speeds learned from it, and the recommendation that uses them."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import login
from convive.incidents.models import Assignment
from convive.incidents.queries import (
    LEARN_MIN_TRIPS,
    learned_travel_speeds,
)
from convive.incidents.tests.factories import KENNEDY_POINT, IncidentFactory, dispatch
from convive.territories.tests.factories import CityFactory
from convive.units.fleet import KIND_CODE
from convive.units.models import Unit
from convive.units.queries import DEFAULT_MPS, recommend_units
from convive.units.tests.factories import UnitFactory

pytestmark = pytest.mark.usefixtures("english")

EAST = (-74.14, 4.60)  # about 1.1 km east of KENNEDY_POINT


def trips(world, count, *, metres=1000.0, seconds=200, kind=Unit.Kind.PATROL_CAR, days_ago=1):
    """``count`` past trips of ``kind`` in ``world.city``: ``metres`` covered in ``seconds``."""
    unit = UnitFactory(institution=world.police, kind=kind)
    dispatched = timezone.now() - timedelta(days=days_ago)
    for _ in range(count):
        incident = IncidentFactory(city=world.city)
        Assignment.objects.create(
            incident=incident,
            unit=unit,
            dispatched_at=dispatched,
            on_scene_at=dispatched + timedelta(seconds=seconds),
            cleared_at=dispatched + timedelta(hours=1),
            distance_m=metres,
        )


def patrol_speed(speeds) -> tuple[float, int]:
    code = KIND_CODE[Unit.Kind.PATROL_CAR]
    return float(speeds.mps[code]), int(speeds.trips[code])


def test_a_dispatch_records_how_far_the_unit_was(dispatcher, world, types):
    incident = IncidentFactory(city=world.city, type=types.rina, institution=world.police)
    unit = UnitFactory(institution=world.police, at=EAST)
    dispatch(dispatcher, incident, unit)
    assert 1_000 < Assignment.objects.get().distance_m < 1_200


def test_an_old_position_records_no_distance(dispatcher, world, types):
    incident = IncidentFactory(city=world.city, type=types.rina, institution=world.police)
    old = timezone.now() - timedelta(hours=2)
    unit = UnitFactory(institution=world.police, at=EAST, position_at=old)
    dispatch(dispatcher, incident, unit)
    assert Assignment.objects.get().distance_m is None


def test_speeds_are_learned_from_enough_recent_trips_of_the_city(world):
    trips(world, LEARN_MIN_TRIPS, metres=1000, seconds=200)  # 5 m/s
    trips(world, LEARN_MIN_TRIPS, metres=1000, seconds=100, days_ago=120)  # too old
    trips(world, 5, metres=1000, seconds=1)  # 1000 m/s: a wrong clock, left out
    other = CityFactory()
    assert patrol_speed(learned_travel_speeds(world.city, fresh=True)) == (5.0, LEARN_MIN_TRIPS)
    assert patrol_speed(learned_travel_speeds(other, fresh=True)) == (
        pytest.approx(DEFAULT_MPS[KIND_CODE[Unit.Kind.PATROL_CAR]]),
        0,
    )


def test_too_few_trips_keep_the_default_estimate(world):
    trips(world, LEARN_MIN_TRIPS - 1, metres=1000, seconds=200)
    speed, count = patrol_speed(learned_travel_speeds(world.city, fresh=True))
    assert (speed, count) == (pytest.approx(DEFAULT_MPS[KIND_CODE[Unit.Kind.PATROL_CAR]]), 0)


def test_the_speeds_are_kept_a_while_then_learned_again(world):
    before = learned_travel_speeds(world.city, fresh=True)
    trips(world, LEARN_MIN_TRIPS, metres=1000, seconds=200)
    assert learned_travel_speeds(world.city) is before  # kept: learned at most every 10 min
    assert patrol_speed(learned_travel_speeds(world.city, fresh=True)) == (5.0, LEARN_MIN_TRIPS)


def test_the_recommendation_uses_the_learned_speed_and_says_so(world):
    trips(world, LEARN_MIN_TRIPS, metres=1000, seconds=400)  # 2.5 m/s: a congested city
    UnitFactory(institution=world.police, call_sign="PAT-1", at=EAST)
    lon, lat = KENNEDY_POINT
    speeds = learned_travel_speeds(world.city, fresh=True)
    learned = recommend_units(world.city, lon=lon, lat=lat, capabilities=["patrol"], speeds=speeds)
    default = recommend_units(world.city, lon=lon, lat=lat, capabilities=["patrol"])
    first = learned[0]
    assert first.eta_seconds == round(first.distance_m / 2.5)
    assert first.eta_seconds > default[0].eta_seconds
    assert f"time learned from {LEARN_MIN_TRIPS} past trips" in first.reasons
    assert not any("learned" in reason for reason in default[0].reasons)


def test_the_incident_page_shows_the_learned_estimate(client, dispatcher, world, types):
    trips(world, LEARN_MIN_TRIPS, metres=1000, seconds=400)
    UnitFactory(institution=world.police, call_sign="PAT-1", at=EAST)
    incident = IncidentFactory(city=world.city, type=types.rina, institution=world.police)
    learned_travel_speeds(world.city, fresh=True)
    login(client, dispatcher)
    html = client.get(reverse("console:detail", args=[incident.pk])).content.decode()
    assert f"time learned from {LEARN_MIN_TRIPS} past trips" in html
