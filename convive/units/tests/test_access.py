"""Who reaches a unit (``access_unit_by_id``); everyone else gets 404."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from convive.accounts.roles import Role
from convive.institutions.models import Institution
from convive.institutions.tests.factories import InstitutionFactory, MembershipFactory
from convive.territories.tests.factories import CityFactory
from convive.units.access import access_unit_by_id
from convive.units.tests.factories import UnitFactory


@pytest.fixture
def unit(world):
    return UnitFactory(institution=world.police, home_territory=world.suba)


@pytest.mark.parametrize(
    ("role", "reaches"),
    [
        (Role.PLATFORM_ADMIN, True),
        (Role.DISPATCHER, True),  # the secretariat's: city-wide
        (Role.CALL_TAKER, True),  # the secretariat's: city-wide
        (Role.SUPERVISOR, True),  # the police's, even limited to Kennedy
        (Role.INSTITUTION_ADMIN, True),  # the police's
        (Role.FIELD_UNIT, False),  # no crew link yet
        (Role.ANALYST, False),
        (Role.CAMERA_PARTNER, False),
        (Role.CITIZEN, False),
    ],
)
def test_who_reaches_a_unit(persona, unit, role, reaches):
    user = persona(role)
    if reaches:
        assert access_unit_by_id(user, unit.pk) == unit
    else:
        with pytest.raises(Http404):
            access_unit_by_id(user, unit.pk)


def test_nobody_logged_out_reaches_a_unit(unit):
    with pytest.raises(Http404):
        access_unit_by_id(AnonymousUser(), unit.pk)


def test_a_unit_that_does_not_exist_is_not_found(platform_admin):
    with pytest.raises(Http404):
        access_unit_by_id(platform_admin, 999_999)


def test_an_institution_admin_reaches_only_its_own_fleet(world, institution_admin):
    other = UnitFactory(institution=InstitutionFactory(city=world.city, slug="transito"))
    with pytest.raises(Http404):
        access_unit_by_id(institution_admin, other.pk)


def test_a_command_centre_reaches_only_its_own_city(world, unit):
    elsewhere = InstitutionFactory(
        city=CityFactory(slug="otra"), kind=Institution.Kind.COMMAND_CENTRE, slug="c5"
    )
    membership = MembershipFactory(institution=elsewhere, role=Role.DISPATCHER)
    with pytest.raises(Http404):
        access_unit_by_id(membership.user, unit.pk)


def test_an_institution_admin_of_a_command_centre_does_not_reach_other_fleets(world, unit):
    membership = MembershipFactory(institution=world.secretariat, role=Role.INSTITUTION_ADMIN)
    with pytest.raises(Http404):
        access_unit_by_id(membership.user, unit.pk)


def test_an_ended_membership_reaches_nothing(world, unit):
    membership = MembershipFactory(institution=world.police, role=Role.DISPATCHER, active=False)
    with pytest.raises(Http404):
        access_unit_by_id(membership.user, unit.pk)


def test_a_unit_can_be_locked_for_update(dispatcher, unit):
    locked = access_unit_by_id(dispatcher, unit.pk, for_update=True)
    assert locked.institution.city.pk == unit.institution.city_id
