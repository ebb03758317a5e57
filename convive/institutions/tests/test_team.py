"""Teams: who may see and change them, and the rules of giving roles over territories."""

import pytest
from django.http import Http404

from conftest import login
from convive.accounts.permissions import Action
from convive.accounts.roles import Role
from convive.accounts.tests.factories import UserFactory
from convive.core.errors import ActionError
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.institutions.access import access_institution_by_id
from convive.institutions.actions import (
    check_add_member,
    check_change_member,
    check_end_membership,
)
from convive.institutions.models import Membership


@pytest.fixture
def newcomer(db):
    return UserFactory(username="nuevo_agente", email="nuevo@example.org")


def test_institution_admin_gives_a_role_over_a_territory(
    client, world, institution_admin, newcomer
):
    login(client, institution_admin)
    url = f"/institutions/{world.police.pk}/team/"
    data = {"account": "nuevo@example.org", "role": Role.SUPERVISOR, "territories": [world.suba.pk]}
    response = client.post(url, data)
    assert response.status_code == 302
    membership = Membership.objects.get(user=newcomer)
    assert (membership.role, membership.institution) == (Role.SUPERVISOR, world.police)
    assert list(membership.territories.all()) == [world.suba]
    event = AuditEvent.objects.get(tag=AuditTag.INSTITUTION_MEMBER_ADDED)
    assert event.institution_id == world.police.pk
    assert event.data_dict == {"user": "nuevo_agente", "role": "supervisor", "territories": ["11"]}
    page = client.get(url)
    assert "nuevo_agente" in page.content.decode()


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"account": "nadie"}, "account"),
        ({"role": Role.PLATFORM_ADMIN}, "role"),
        ({"role": Role.CAMERA_PARTNER}, "role"),
    ],
)
def test_bad_additions_are_form_errors(client, world, institution_admin, newcomer, data, field):
    login(client, institution_admin)
    base = {"account": "nuevo_agente", "role": Role.DISPATCHER}
    response = client.post(f"/institutions/{world.police.pk}/team/", {**base, **data})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert not Membership.objects.filter(user=newcomer).exists()
    assert not AuditEvent.objects.filter(tag__startswith="institution:").exists()


def test_a_territory_outside_the_institution_is_refused(world, institution_admin, newcomer):
    outside = world.timiza.__class__.objects.create(
        **{
            f.name: getattr(world.suba, f.name)
            for f in world.suba._meta.concrete_fields
            if f.name not in ("id", "code", "name")
        },
        code="99",
        name="Fuera",
    )
    with pytest.raises(ActionError) as error:
        check_add_member(
            institution_admin,
            world.police,
            account="nuevo_agente",
            role=Role.DISPATCHER,
            territories=[outside],
        )
    assert error.value.field == "territories"


def test_the_same_role_twice_is_a_conflict(world, institution_admin, supervisor):
    with pytest.raises(ActionError) as error:
        check_add_member(
            institution_admin,
            world.police,
            account="supervisora",
            role=Role.SUPERVISOR,
            territories=[],
        )
    assert error.value.status == 409


def test_supervisor_sees_own_team_but_cannot_change_it(client, world, supervisor, newcomer):
    login(client, supervisor)
    url = f"/institutions/{world.police.pk}/team/"
    page = client.get(url)
    assert page.status_code == 200
    assert page.context["form"] is None
    response = client.post(url, {"account": "nuevo_agente", "role": Role.DISPATCHER})
    assert response.status_code == 404
    assert client.get(f"/institutions/{world.secretariat.pk}/team/").status_code == 404
    assert not Membership.objects.filter(user=newcomer).exists()


def test_institution_admin_cannot_reach_another_institution(world, institution_admin):
    for action in (Action.MEMBER_VIEW, Action.MEMBER_MANAGE):
        with pytest.raises(Http404):
            access_institution_by_id(institution_admin, world.secretariat.pk, action=action)
    assert access_institution_by_id(institution_admin, world.police.pk) == world.police


def test_platform_admin_reaches_every_institution(world, platform_admin):
    assert (
        access_institution_by_id(platform_admin, world.partner.pk, action=Action.MEMBER_MANAGE)
        == world.partner
    )


def test_changing_territories_needs_a_change_and_is_audited(world, institution_admin, supervisor):
    membership = supervisor.active_memberships[0]
    with pytest.raises(ActionError):
        check_change_member(institution_admin, membership, territories=[world.kennedy], reason="x")
    check_change_member(
        institution_admin, membership, territories=[world.kennedy, world.suba], reason="Refuerzo"
    )
    event = AuditEvent.objects.get(tag=AuditTag.INSTITUTION_MEMBER_CHANGED)
    assert event.reason == "Refuerzo"
    assert event.data_dict["territories"] == {"from": ["08"], "to": ["08", "11"]}


def test_ending_a_role_keeps_the_record(client, world, institution_admin, field_unit):
    membership = field_unit.active_memberships[0]
    login(client, institution_admin)
    url = f"/institutions/{world.police.pk}/team/{membership.pk}/end/"
    client.post(url, {"end-reason": ""})
    membership.refresh_from_db()
    assert membership.active
    client.post(url, {"end-reason": "Traslado a otra estación"})
    membership.refresh_from_db()
    assert not membership.active
    assert membership.ended_at is not None
    assert AuditEvent.objects.get(tag=AuditTag.INSTITUTION_MEMBER_REMOVED).reason == (
        "Traslado a otra estación"
    )


def test_an_administrator_cannot_remove_their_own_role(world, institution_admin):
    membership = institution_admin.active_memberships[0]
    with pytest.raises(ActionError) as error:
        check_end_membership(institution_admin, membership, reason="me voy")
    assert error.value.status == 409
