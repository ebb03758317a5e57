"""The field-unit page's live refresh (``units:field_live``): the crew's own units and their
incidents only, 304 while nothing changed, and the centre's changes when something did."""

import pytest
from django.db import transaction
from django.urls import reverse

from conftest import login
from convive.accounts.roles import Role
from convive.accounts.tests.factories import UserFactory
from convive.incidents.actions import (
    check_add_note,
    check_close,
    check_transfer,
)
from convive.incidents.tests.factories import IncidentFactory, IncidentTypeFactory, dispatch
from convive.institutions.tests.factories import MembershipFactory
from convive.units.tests.conftest import KENNEDY_POINT
from convive.units.tests.factories import UnitFactory

pytestmark = pytest.mark.usefixtures("english")

LIVE = "units:field_live"


@pytest.fixture
def unit(world, field_unit):
    unit = UnitFactory(institution=world.police, call_sign="PAT-08-1", at=KENNEDY_POINT)
    unit.crew.add(field_unit)
    return unit


@pytest.fixture
def incident(world):
    kind = IncidentTypeFactory(code="rina", name_es="Riña")
    return IncidentFactory(
        city=world.city,
        type=kind,
        locality=world.kennedy,
        institution=world.police,
        summary="Dos personas pelean",
    )


def poll(client, etag: str = ""):
    headers = {"If-None-Match": etag} if etag else {}
    return client.get(reverse(LIVE), headers=headers)


def test_an_unchanged_unit_answers_304_without_a_body(client, field_unit, unit):
    login(client, field_unit)
    response = poll(client)
    assert response.status_code == 200
    assert response.json()["units"] == [
        {
            "unit_id": unit.pk,
            "call_sign": "PAT-08-1",
            "status": "available",
            "version": unit.version,
            "incident": None,
        }
    ]
    assert 'data-testid="no-incident"' in response.json()["html"]
    assert "no-cache" in response["Cache-Control"]
    again = poll(client, response["ETag"])
    assert again.status_code == 304
    assert again.content == b""


def test_the_page_holds_the_tag_of_what_it_shows(client, field_unit, unit):
    login(client, field_unit)
    page = client.get(reverse("units:field"))
    assert page.context["live_url"] == reverse(LIVE)
    assert page.context["poll_seconds"] > 0
    etag = page.context["etag"]
    escaped = etag.replace('"', "&quot;")
    assert f'data-etag="{escaped}"' in page.content.decode()
    assert poll(client, etag).status_code == 304


def test_a_dispatch_shows_on_the_phone(client, field_unit, dispatcher, unit, incident):
    login(client, field_unit)
    etag = poll(client)["ETag"]
    dispatch(dispatcher, incident, unit)
    response = poll(client, etag)
    assert response.status_code == 200
    [row] = response.json()["units"]
    assert row["status"] == "dispatched"
    assert row["incident"]["incident_id"] == incident.pk
    assert row["incident"]["reference"] == incident.reference
    html = response.json()["html"]
    assert "Dos personas pelean" in html
    assert f'data-incident-id="{incident.pk}"' in html
    unit.refresh_from_db()
    assert f'name="unit_version" value="{unit.version}"' in html  # the buttons are current


def test_the_centre_s_note_and_transfer_show_on_the_phone(
    client, world, field_unit, dispatcher, unit, incident
):
    dispatch(dispatcher, incident, unit)
    login(client, field_unit)
    etag = poll(client)["ETag"]
    with transaction.atomic():
        check_add_note(dispatcher, incident, body="El agresor lleva camisa roja")
    noted = poll(client, etag)
    assert noted.status_code == 200
    assert "El agresor lleva camisa roja" in noted.json()["html"]
    incident.refresh_from_db()
    with transaction.atomic():
        check_transfer(
            dispatcher,
            incident,
            to_institution=world.secretariat,
            reason="Competencia de la secretaría",
            expected_version=incident.version,
        )
    moved = poll(client, noted["ETag"])
    assert moved.status_code == 200
    assert "Secretaría de Seguridad" in moved.json()["html"]


def test_a_closure_by_the_centre_shows_on_the_phone(client, field_unit, dispatcher, unit, incident):
    dispatch(dispatcher, incident, unit)
    login(client, field_unit)
    etag = poll(client)["ETag"]
    incident.refresh_from_db()
    with transaction.atomic():
        check_close(dispatcher, incident, outcome="Resuelto", expected_version=incident.version)
    response = poll(client, etag)
    assert response.status_code == 200
    [row] = response.json()["units"]
    assert (row["status"], row["incident"]) == ("available", None)
    html = response.json()["html"]
    assert 'data-testid="incident-closed"' in html
    assert incident.reference in html


def test_a_crew_sees_only_its_own_unit_s_incident(
    client, world, field_unit, dispatcher, unit, incident
):
    dispatch(dispatcher, incident, unit)
    other_crew = UserFactory(username="patrulla2")
    MembershipFactory(user=other_crew, institution=world.police, role=Role.FIELD_UNIT)
    other = UnitFactory(institution=world.police, call_sign="PAT-11-1", at=KENNEDY_POINT)
    other.crew.add(other_crew)
    login(client, other_crew)
    response = poll(client)
    assert [row["unit_id"] for row in response.json()["units"]] == [other.pk]
    assert response.json()["units"][0]["incident"] is None
    assert incident.reference not in response.json()["html"]
    assert "Dos personas pelean" not in response.json()["html"]


def test_a_field_unit_account_without_a_unit_gets_an_empty_list(client, field_unit):
    login(client, field_unit)
    response = poll(client)
    assert response.json()["units"] == []
    assert 'data-testid="no-unit"' in response.json()["html"]


@pytest.mark.parametrize("name", ["dispatcher", "citizen", "call_taker", "supervisor"])
def test_the_refresh_is_for_field_units(client, request, name):
    login(client, request.getfixturevalue(name))
    assert poll(client).status_code == 403


def test_anonymous_visitors_go_to_the_login_page(client):
    response = poll(client)
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_the_crew_is_told_of_other_units_sent_not_of_its_own(
    client, world, field_unit, dispatcher, unit, incident
):
    dispatch(dispatcher, incident, unit)
    login(client, field_unit)
    assert 'data-testid="field-updates"' not in poll(client).json()["html"]
    backup = UnitFactory(institution=world.police, call_sign="PAT-08-2", at=KENNEDY_POINT)
    incident.refresh_from_db()
    dispatch(dispatcher, incident, backup)
    html = poll(client).json()["html"]
    assert 'data-testid="field-updates"' in html
    assert "PAT-08-2" in html


def test_an_unchanged_answer_is_cheap(
    client, field_unit, dispatcher, unit, incident, django_assert_max_num_queries
):
    dispatch(dispatcher, incident, unit)
    login(client, field_unit)
    etag = poll(client)["ETag"]
    # Session, account and memberships (5), the crew's units, then per unit its assignment and
    # the centre's steps: nothing rendered.
    with django_assert_max_num_queries(8):
        assert poll(client, etag).status_code == 304
