"""The demo fleet (``demo_units``), on the demo city as ``make run`` loads it."""

import io

import pytest
import shapely
from django.core.management import call_command

from convive.demo.generate import CITY_SLUG
from convive.incidents.models import Assignment
from convive.institutions.models import Institution
from convive.territories.models import City, Territory
from convive.units.demo import demo_units
from convive.units.models import Capability, Unit, UnitPosition
from convive.units.queries import recommend_units


@pytest.fixture
def demo(db):
    call_command("load_demo", stdout=io.StringIO())
    city = City.objects.get(slug=CITY_SLUG)
    return city, {i.slug: i for i in Institution.objects.filter(city=city)}


def test_the_demo_loader_creates_the_fleet(demo):
    city, institutions = demo
    units = Unit.objects.filter(institution__city=city).count()

    assert 36 <= units <= 44
    assert UnitPosition.objects.count() == units
    kinds = set(Unit.objects.values_list("kind", flat=True))
    assert kinds == set(Unit.Kind.values)
    localities = Territory.objects.filter(city=city, layer__slug="locality")
    outline = shapely.union_all([t.geometry for t in localities])
    for unit in Unit.objects.select_related("institution", "home_territory"):
        assert unit.institution.city_id == city.pk
        assert unit.home_territory.city_id == city.pk
        assert outline.contains(shapely.Point(unit.last_lon, unit.last_lat)), unit
    for locality in localities:  # each police station has its patrol cars
        station = institutions[f"estacion-policia-{locality.code}"]
        assert Unit.objects.filter(institution=station, kind=Unit.Kind.PATROL_CAR).count() == 2
    statuses = set(Unit.objects.values_list("status", flat=True))
    assert {"available", "en_route", "on_scene", "out_of_service"} <= statuses


def test_the_demo_fleet_is_recommended_and_repeatable(demo):
    city, institutions = demo
    # The loader's fleet (seed 2026) goes, with the demo incidents' assignments; seed 7 instead.
    Assignment.objects.all().delete()
    Unit.objects.all().delete()
    first = sorted((u.call_sign, u.last_lon, u.last_lat) for u in demo_units(city, institutions, 7))
    centre = Territory.objects.filter(city=city, layer__slug="locality").first()
    ambulances = recommend_units(
        city, lon=centre.centroid_lon, lat=centre.centroid_lat, capabilities=["ambulance"]
    )
    assert ambulances
    assert all(r.unit.kind == Unit.Kind.AMBULANCE for r in ambulances)
    women = recommend_units(
        city,
        lon=centre.centroid_lon,
        lat=centre.centroid_lat,
        capabilities=[Capability.WOMEN_CARE],
    )
    assert {r.unit.call_sign for r in women} <= {"MUJ-1", "MUJ-2"}

    Unit.objects.all().delete()
    again = sorted((u.call_sign, u.last_lon, u.last_lat) for u in demo_units(city, institutions, 7))
    assert again == first


def test_each_demo_field_unit_crews_a_patrol_car_of_its_station(demo):
    from convive.accounts.models import User

    for username in ("patrulla", "patrulla_02"):
        unit = User.objects.get(username=username).crewed_units.get()
        membership = User.objects.get(username=username).active_memberships[0]
        assert (unit.kind, unit.institution) == (Unit.Kind.PATROL_CAR, membership.institution)
