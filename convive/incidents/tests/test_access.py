"""``access_incident_by_id``: who reaches which incident, every deny branch included."""

import pytest
from django.contrib.auth.models import AnonymousUser
from django.http import Http404

from convive.accounts.roles import Role
from convive.incidents.access import access_incident_by_id, incidents_for
from convive.incidents.tests.factories import IncidentFactory
from convive.institutions.tests.factories import InstitutionFactory, MembershipFactory
from convive.territories.tests.factories import TerritoryFactory


@pytest.fixture
def in_suba(world, types):
    return IncidentFactory(
        city=world.city, type=types.rina, lon=-74.05, lat=4.70, locality=world.suba
    )


@pytest.fixture
def address_only(world, types):
    return IncidentFactory(city=world.city, type=types.rina, lon=None, lat=None)


@pytest.fixture
def elsewhere(types):
    """An incident of another city."""
    return IncidentFactory(type=types.rina)


def reachable(user) -> set[int]:
    return set(incidents_for(user).values_list("pk", flat=True))


@pytest.mark.parametrize("persona_role", [Role.CALL_TAKER, Role.DISPATCHER])
def test_the_command_centre_reaches_the_whole_city(
    persona, persona_role, incident, in_suba, address_only, elsewhere
):
    user = persona(persona_role)
    assert reachable(user) == {incident.pk, in_suba.pk, address_only.pk}
    assert access_incident_by_id(user, incident.pk) == incident
    with pytest.raises(Http404):
        access_incident_by_id(user, elsewhere.pk)


def test_a_supervisor_reaches_their_territory_only(supervisor, incident, in_suba, address_only):
    """The supervisor's membership is limited to Kennedy: not Suba, even for the police."""
    in_suba.institution = incident.institution  # the police handle it too
    in_suba.save(update_fields=["institution"])
    assert reachable(supervisor) == {incident.pk, address_only.pk}
    with pytest.raises(Http404):
        access_incident_by_id(supervisor, in_suba.pk)


def test_a_supervisor_without_narrowing_reaches_the_coverage_and_what_the_institution_handles(
    world, incident, in_suba, address_only, types
):
    member = MembershipFactory(institution=world.police, role=Role.SUPERVISOR).user
    usme = TerritoryFactory(layer=world.localities, code="05", bounds=(-74.2, 4.4, -74.0, 4.5))
    handled = IncidentFactory(
        city=world.city, type=types.rina, locality=usme, institution=world.police
    )
    IncidentFactory(  # outside the coverage, handled by another institution
        city=world.city,
        type=types.rina,
        locality=usme,
        institution=InstitutionFactory(city=world.city, slug="transito"),
    )
    assert reachable(member) == {incident.pk, in_suba.pk, address_only.pk, handled.pk}


def test_a_supervisor_of_a_city_wide_institution_reaches_the_city(world, incident, in_suba):
    member = MembershipFactory(institution=world.secretariat, role=Role.SUPERVISOR).user
    assert reachable(member) == {incident.pk, in_suba.pk}


def test_a_platform_administrator_reaches_everything(platform_admin, incident, elsewhere):
    assert reachable(platform_admin) == {incident.pk, elsewhere.pk}


@pytest.mark.parametrize(
    "persona_role",
    [Role.CITIZEN, Role.FIELD_UNIT, Role.ANALYST, Role.INSTITUTION_ADMIN, Role.CAMERA_PARTNER],
)
def test_other_roles_reach_nothing(persona, persona_role, incident):
    user = persona(persona_role)
    assert reachable(user) == set()
    with pytest.raises(Http404):
        access_incident_by_id(user, incident.pk)


def test_anonymous_visitors_reach_nothing(incident):
    with pytest.raises(Http404):
        access_incident_by_id(AnonymousUser(), incident.pk)


def test_an_inactive_account_reaches_nothing(call_taker, incident):
    call_taker.is_active = False
    assert reachable(call_taker) == set()


def test_a_field_unit_that_is_also_a_dispatcher_reaches_by_its_dispatcher_role(
    field_unit, world, incident
):
    MembershipFactory(user=field_unit, institution=world.secretariat, role=Role.DISPATCHER)
    assert access_incident_by_id(field_unit, incident.pk) == incident


def test_an_unknown_incident_is_not_found(call_taker, incident):
    with pytest.raises(Http404):
        access_incident_by_id(call_taker, incident.pk + 1000)


def test_for_update_locks_and_returns_the_incident(dispatcher, incident):
    from django.db import transaction

    with transaction.atomic():
        assert access_incident_by_id(dispatcher, incident.pk, for_update=True) == incident


def test_the_admin_site_edits_types_but_never_deletes_and_only_reads_incidents(rf, platform_admin):
    from convive.core.admin import admin_site
    from convive.incidents.models import Incident, IncidentEvent, IncidentType

    request = rf.get("/admin/")
    request.user = platform_admin
    types_admin = admin_site._registry[IncidentType]
    assert types_admin.has_change_permission(request)
    assert not types_admin.has_delete_permission(request)
    for model in (Incident, IncidentEvent):
        model_admin = admin_site._registry[model]
        assert model_admin.has_view_permission(request)
        assert not model_admin.has_add_permission(request)
        assert not model_admin.has_change_permission(request)
        assert not model_admin.has_delete_permission(request)
