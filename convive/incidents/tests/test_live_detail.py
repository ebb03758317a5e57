"""The incident page's live refresh (``console:detail_live``): who may read it, 304 while nothing
changed, the parts with the current versions when something did, and what is audited."""

import re

import pytest
from django.db import transaction
from django.urls import reverse

from conftest import login
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.incidents.actions import check_add_note, check_close, check_dispatch_unit
from convive.incidents.models import Incident
from convive.incidents.tests.factories import KENNEDY_POINT, IncidentFactory
from convive.units.tests.factories import UnitFactory

pytestmark = pytest.mark.usefixtures("english")

PARTS = ("status", "facts", "units", "sources", "timeline", "actions")


def live_url(incident: Incident) -> str:
    return reverse("console:detail_live", args=[incident.pk])


def views_audited(incident: Incident) -> int:
    return AuditEvent.objects.filter(
        tag=AuditTag.INCIDENT_VIEWED, subject_id=str(incident.pk)
    ).count()


def hidden_versions(body: str) -> set[str]:
    """The incident versions the forms of a page or fragment carry."""
    return set(re.findall(r'name="(?:\w+-)?version" value="(\d+)"', body))


@pytest.fixture
def unit(world):
    return UnitFactory(institution=world.police, call_sign="PAT-08-1", at=KENNEDY_POINT)


def test_the_parts_come_with_a_tag_and_an_unchanged_incident_answers_304(
    client, dispatcher, incident, unit
):
    login(client, dispatcher)
    response = client.get(live_url(incident))
    assert response.status_code == 200
    body = response.content.decode()
    for part in PARTS:
        assert f'data-live-part="{part}"' in body
    assert "PAT-08-1" in body  # recommended, with its dispatch button
    assert "no-cache" in response["Cache-Control"]
    assert "private" in response["Cache-Control"]
    etag = response["ETag"]

    again = client.get(live_url(incident), headers={"If-None-Match": etag})
    assert again.status_code == 304
    assert again.content == b""
    assert again["ETag"] == etag


def test_the_page_holds_the_tag_of_what_it_shows(client, dispatcher, incident, unit):
    login(client, dispatcher)
    page = client.get(reverse("console:detail", args=[incident.pk]))
    live = page.context["config"]["live"]
    assert live["url"] == live_url(incident)
    assert live["incident_id"] == incident.pk
    assert live["poll_seconds"] > 0
    assert client.get(live["url"], headers={"If-None-Match": live["etag"]}).status_code == 304


def test_a_change_by_someone_else_brings_the_parts_with_the_new_version(
    client, dispatcher, supervisor, incident, unit
):
    login(client, dispatcher)
    etag = client.get(live_url(incident))["ETag"]
    with transaction.atomic():
        check_add_note(supervisor, incident, body="La víctima espera en la tienda")
    response = client.get(live_url(incident), headers={"If-None-Match": etag})
    assert response.status_code == 200
    assert response["ETag"] != etag
    body = response.content.decode()
    assert "La víctima espera en la tienda" in body
    incident.refresh_from_db()
    assert hidden_versions(body) == {str(incident.version)}  # the next action is not a 409


def test_a_dispatch_and_a_closure_show_in_the_parts(client, dispatcher, incident, unit):
    login(client, dispatcher)
    with transaction.atomic():
        check_dispatch_unit(
            dispatcher, incident, unit, expected_incident_version=1, expected_unit_version=1
        )
    body = client.get(live_url(incident)).content.decode()
    assert 'data-testid="assignment-status-PAT-08-1"' in body
    assert 'data-testid="action-close"' in body
    incident.refresh_from_db()
    with transaction.atomic():
        check_close(dispatcher, incident, outcome="Resuelto", expected_version=incident.version)
    body = client.get(live_url(incident)).content.decode()
    assert "Closed" in body
    assert 'data-testid="action-close"' not in body  # the forms follow the incident
    assert 'data-testid="action-reopen"' in body


def test_a_new_version_is_audited_and_units_moving_are_not(client, dispatcher, incident, unit):
    login(client, dispatcher)
    first = client.get(live_url(incident))
    assert views_audited(incident) == 1
    UnitFactory(institution=incident.institution, call_sign="PAT-08-2", at=KENNEDY_POINT)
    moved = client.get(live_url(incident), headers={"If-None-Match": first["ETag"]})
    assert moved.status_code == 200  # another unit is recommended now
    assert "PAT-08-2" in moved.content.decode()
    assert views_audited(incident) == 1  # the same version of the incident
    with transaction.atomic():
        check_add_note(dispatcher, incident, body="Nota")
    client.get(live_url(incident), headers={"If-None-Match": moved["ETag"]})
    assert views_audited(incident) == 2


def test_the_tag_follows_the_language(client, dispatcher, incident):
    login(client, dispatcher)
    english = client.get(live_url(incident), headers={"Accept-Language": "en"})
    spanish = client.get(
        live_url(incident), headers={"Accept-Language": "es", "If-None-Match": english["ETag"]}
    )
    assert spanish.status_code == 200
    assert "Historial" in spanish.content.decode()


def test_an_incident_out_of_reach_is_not_found(client, world, types, supervisor):
    elsewhere = IncidentFactory(
        city=world.city, type=types.robo, locality=world.suba, institution=world.secretariat
    )
    login(client, supervisor)  # a supervisor of Kennedy
    assert client.get(live_url(elsewhere)).status_code == 404
    assert client.get(reverse("console:detail_live", args=[999999])).status_code == 404


@pytest.mark.parametrize("name", ["field_unit", "citizen", "analyst"])
def test_the_parts_are_for_command_centre_staff(client, request, incident, name):
    login(client, request.getfixturevalue(name))
    assert client.get(live_url(incident)).status_code == 403


def test_anonymous_visitors_go_to_the_login_page(client, incident):
    response = client.get(live_url(incident))
    assert response.status_code == 302
    assert response["Location"].startswith(reverse("accounts:login"))


def test_an_unchanged_answer_is_cheap(
    client, dispatcher, incident, unit, django_assert_max_num_queries
):
    login(client, dispatcher)
    etag = client.get(live_url(incident))["ETag"]
    # Session, account and memberships, the incident, its units and the recommendation: no
    # timeline, sources or forms, nothing rendered.
    with django_assert_max_num_queries(10):
        assert client.get(live_url(incident), headers={"If-None-Match": etag}).status_code == 304
