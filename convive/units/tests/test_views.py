"""The field-unit page: the crew's unit, its incident, the status buttons."""

import pytest
from django.urls import reverse

from conftest import login
from convive.incidents.actions import check_dispatch_unit
from convive.incidents.models import Incident
from convive.incidents.tests.factories import IncidentFactory, IncidentTypeFactory
from convive.units.models import Unit
from convive.units.tests.conftest import KENNEDY_POINT
from convive.units.tests.factories import UnitFactory

pytestmark = pytest.mark.usefixtures("english")  # messages are compared in English


@pytest.fixture
def unit(world, field_unit):
    unit = UnitFactory(institution=world.police, call_sign="PAT-08-1", at=KENNEDY_POINT)
    unit.crew.add(field_unit)
    return unit


@pytest.fixture
def assigned(world, dispatcher, unit):
    kind = IncidentTypeFactory(code="rina", name_es="Riña")
    incident = IncidentFactory(
        city=world.city, type=kind, locality=world.kennedy, summary="Dos personas pelean"
    )
    check_dispatch_unit(
        dispatcher, incident, unit, expected_incident_version=1, expected_unit_version=1
    )
    unit.refresh_from_db()
    return incident


def test_the_crew_sees_its_unit_and_incident(client, field_unit, unit, assigned):
    login(client, field_unit)
    response = client.get(reverse("units:field"))
    assert response.status_code == 200
    [crew] = response.context["crews"]
    assert (crew["unit"], crew["incident"]) == (unit, assigned)
    body = response.content.decode()
    assert "Dos personas pelean" in body
    assert 'href="geo:4.600000,-74.150000"' in body


def test_a_crew_without_incident_is_told_so(client, field_unit, unit):
    login(client, field_unit)
    response = client.get(reverse("units:field"))
    assert response.context["crews"][0]["incident"] is None
    assert 'data-testid="no-incident"' in response.content.decode()
    url = reverse("units:progress", args=[unit.pk])
    assert client.post(url, {"step": "en_route", "unit_version": 1}).status_code == 409


@pytest.mark.parametrize("name", ["dispatcher", "citizen", "call_taker"])
def test_the_field_page_is_for_field_units(client, request, name):
    login(client, request.getfixturevalue(name))
    assert client.get(reverse("units:field")).status_code == 403


def test_en_route_on_scene_cleared(client, field_unit, unit, assigned):
    login(client, field_unit)
    url = reverse("units:progress", args=[unit.pk])
    for step, unit_status in (
        ("en_route", Unit.Status.EN_ROUTE),
        ("on_scene", Unit.Status.ON_SCENE),
        ("cleared", Unit.Status.AVAILABLE),
    ):
        version = Unit.objects.get(pk=unit.pk).version
        response = client.post(url, {"step": step, "unit_version": version})
        assert response.status_code == 302, response.content
        assert Unit.objects.get(pk=unit.pk).status == unit_status
    assigned.refresh_from_db()
    assert assigned.status == Incident.Status.CLEARED


def test_a_stale_button_gets_a_conflict(client, field_unit, unit, assigned):
    login(client, field_unit)
    url = reverse("units:progress", args=[unit.pk])
    response = client.post(url, {"step": "en_route", "unit_version": unit.version - 1})
    assert response.status_code == 409
    assert "Someone else changed it" in response.content.decode()
    assert Unit.objects.get(pk=unit.pk).status == Unit.Status.DISPATCHED


def test_bad_input_and_other_units(client, world, field_unit, unit, assigned):
    login(client, field_unit)
    url = reverse("units:progress", args=[unit.pk])
    assert client.post(url, {"step": "flying", "unit_version": 1}).status_code == 400
    other = UnitFactory(institution=world.police, call_sign="PAT-08-2")
    other_url = reverse("units:progress", args=[other.pk])
    assert client.post(other_url, {"step": "en_route", "unit_version": 1}).status_code == 404
    status_url = reverse("units:status", args=[other.pk])
    data = {"status": "out_of_service", "unit_version": 1, "reason": "Llanta"}
    assert client.post(status_url, data).status_code == 404


def test_out_of_service_needs_a_reason_then_available_again(client, field_unit, unit):
    login(client, field_unit)
    url = reverse("units:status", args=[unit.pk])
    data = {"status": "out_of_service", "unit_version": unit.version, "reason": ""}
    assert client.post(url, data).status_code == 400
    data["reason"] = "Llanta pinchada"
    assert client.post(url, data).status_code == 302
    unit.refresh_from_db()
    assert unit.status == Unit.Status.OUT_OF_SERVICE
    data = {"status": "available", "unit_version": unit.version}
    assert client.post(url, data).status_code == 302
    assert Unit.objects.get(pk=unit.pk).status == Unit.Status.AVAILABLE
