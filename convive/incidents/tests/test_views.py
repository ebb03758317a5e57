"""The command-centre pages: console, queue.json, the call form, an incident and its actions."""

from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from conftest import login
from convive.incidents.models import Assignment, Incident, IncidentEvent, IncidentSource
from convive.incidents.tests.factories import (
    KENNEDY_POINT,
    OUTSIDE_POINT,
    IncidentFactory,
)
from convive.units.tests.factories import UnitFactory

pytestmark = pytest.mark.usefixtures("english")  # messages are compared in English

Kind = IncidentEvent.Kind


@pytest.fixture
def unit(world):
    return UnitFactory(institution=world.police, call_sign="PAT-08-1", at=KENNEDY_POINT)


def call_data(types, **overrides):
    received = timezone.now() - timedelta(seconds=30)
    data = {
        "type": types.rina.code,
        "lon": KENNEDY_POINT[0],
        "lat": KENNEDY_POINT[1],
        "address": "Calle 38 sur # 78-20",
        "summary": "Riña con armas blancas",
        "caller_name": "",
        "caller_phone": "3001234567",
        "received_at": received.isoformat(),
        "answered_at": (received + timedelta(seconds=5)).isoformat(),
        f"answer-{types.rina.code}-armas": "Sí, cuchillos",
    }
    data.update(overrides)
    return data


# --- The console -------------------------------------------------------------------------------


def test_the_console_lists_open_incidents_by_priority(client, call_taker, world, types, incident):
    urgent = IncidentFactory(city=world.city, type=types.sos, locality=world.suba)
    IncidentFactory(city=world.city, type=types.robo, status=Incident.Status.CLOSED)
    login(client, call_taker)
    response = client.get(reverse("console:index"))
    assert response.status_code == 200
    queue = response.context["incidents"]
    assert [i.pk for i in queue] == [urgent.pk, incident.pk]
    assert response.context["config"]["new_call"] == reverse("console:call")
    assert b'id="console-config"' in response.content


@pytest.mark.parametrize("name", ["citizen", "field_unit", "analyst"])
def test_the_console_is_for_command_centre_staff(client, request, name):
    login(client, request.getfixturevalue(name))
    assert client.get(reverse("console:index")).status_code == 403
    assert client.get(reverse("console:queue")).status_code == 403


def test_anonymous_people_are_sent_to_log_in(client, db):
    response = client.get(reverse("console:index"))
    assert response.status_code == 302
    assert "/accounts/login/" in response["Location"]


def test_queue_json_catches_up_since_a_time(client, dispatcher, world, types, incident):
    login(client, dispatcher)
    body = client.get(reverse("console:queue")).json()
    assert [row["incident_id"] for row in body["data"]] == [incident.pk]
    assert body["data"][0]["reference"] == incident.reference
    later = timezone.now()
    Incident.objects.filter(pk=incident.pk).update(
        status=Incident.Status.CLOSED, updated_at=later + timedelta(seconds=1)
    )
    body = client.get(reverse("console:queue"), {"since": later.isoformat()}).json()
    assert [(r["incident_id"], r["open"]) for r in body["data"]] == [(incident.pk, False)]
    assert client.get(reverse("console:queue"), {"since": "yesterday"}).status_code == 400


def test_queue_json_shows_only_what_the_user_may_see(client, supervisor, world, types, incident):
    IncidentFactory(city=world.city, type=types.robo, locality=world.suba, institution=None)
    login(client, supervisor)  # narrowed to Kennedy
    body = client.get(reverse("console:queue")).json()
    assert [row["incident_id"] for row in body["data"]] == [incident.pk]


# --- Taking a call ------------------------------------------------------------------------------


def test_the_call_form_opens_with_the_times_prefilled(client, call_taker, types):
    login(client, call_taker)
    response = client.get(reverse("console:call"))
    assert response.status_code == 200
    form = response.context["form"]
    assert form.initial["received_at"] == form.initial["answered_at"]
    assert types.rina.name_en in response.content.decode()  # "Fight": the page is in English
    assert f'name="answer-{types.rina.code}-armas"' in response.content.decode()


def test_a_call_becomes_an_incident(client, call_taker, world, types):
    login(client, call_taker)
    response = client.post(reverse("console:call"), call_data(types))
    incident = Incident.objects.get()
    assert response.status_code == 302
    assert response["Location"] == reverse("console:detail", args=[incident.pk])
    assert incident.type == types.rina
    assert incident.locality == world.kennedy
    assert incident.protocol_answers == {"armas": "Sí, cuchillos"}
    source = incident.sources.get()
    assert source.caller_phone == "3001234567"
    kinds = list(incident.events.values_list("kind", flat=True))
    assert kinds == [Kind.CALL_RECEIVED, Kind.CALL_ANSWERED, Kind.CREATED]


@pytest.mark.parametrize(
    ("overrides", "field", "status"),
    [
        ({"type": "unknown"}, "type", 400),
        ({"lon": OUTSIDE_POINT[0], "lat": OUTSIDE_POINT[1]}, "address", 400),
        ({"lon": "", "lat": "", "address": ""}, "address", 400),
        ({"lon": "", "lat": "4.6"}, "lon", 400),
        ({"received_at": "soon"}, "received_at", 400),
    ],
)
def test_a_bad_call_shows_the_error_next_to_the_field_and_writes_nothing(
    client, call_taker, types, overrides, field, status
):
    login(client, call_taker)
    response = client.post(reverse("console:call"), call_data(types, **overrides))
    assert response.status_code == status
    assert response.context["form"].errors[field]
    assert not Incident.objects.exists()


def test_nearby_duplicates_are_offered(client, call_taker, world, types, incident):
    login(client, call_taker)
    url = reverse("console:duplicates")
    query = {"type": types.rina.code, "lon": KENNEDY_POINT[0], "lat": KENNEDY_POINT[1]}
    body = client.get(url, query).json()
    assert [row["incident_id"] for row in body["data"]] == [incident.pk]
    assert client.get(url, {**query, "type": types.robo.code}).json()["data"] == []
    assert client.get(url, {"type": "rina", "lat": "x"}).status_code == 400


def test_linking_a_call_to_a_duplicate_keeps_its_source_there(client, call_taker, types, incident):
    login(client, call_taker)
    response = client.post(reverse("console:call"), call_data(types, duplicate_of=incident.pk))
    assert response["Location"] == reverse("console:detail", args=[incident.pk])
    new = Incident.objects.exclude(pk=incident.pk).get()
    assert new.merged_into == incident
    assert IncidentSource.objects.filter(incident=incident).count() == 1


# --- An incident ---------------------------------------------------------------------------------


def test_the_incident_page_shows_timeline_and_recommended_units(client, dispatcher, incident, unit):
    login(client, dispatcher)
    response = client.get(reverse("console:detail", args=[incident.pk]))
    assert response.status_code == 200
    assert [r["unit"] for r in response.context["recommendations"]] == [unit]
    assert response.context["can_dispatch"] is True
    assert "Dispatch PAT-08-1" in response.content.decode()


def test_a_call_taker_sees_units_but_cannot_dispatch(client, call_taker, incident, unit):
    login(client, call_taker)
    response = client.get(reverse("console:detail", args=[incident.pk]))
    assert response.context["can_dispatch"] is False
    data = {"dispatch-unit": unit.pk, "dispatch-version": 1, "dispatch-unit_version": 1}
    url = reverse("console:dispatch", args=[incident.pk])
    assert client.post(url, data).status_code == 403


def test_an_incident_out_of_sight_is_not_found(client, supervisor, world, types):
    hidden = IncidentFactory(city=world.city, type=types.robo, locality=world.suba)
    login(client, supervisor)
    assert client.get(reverse("console:detail", args=[hidden.pk])).status_code == 404


def test_dispatching_a_unit(client, dispatcher, incident, unit):
    login(client, dispatcher)
    data = {"dispatch-unit": unit.pk, "dispatch-version": incident.version}
    data["dispatch-unit_version"] = unit.version
    response = client.post(reverse("console:dispatch", args=[incident.pk]), data)
    assert response.status_code == 302
    assignment = Assignment.objects.get()
    assert (assignment.incident, assignment.unit) == (incident, unit)
    incident.refresh_from_db()
    assert incident.status == Incident.Status.DISPATCHED


def test_a_stale_dispatch_shows_the_conflict_and_sends_nothing(client, dispatcher, incident, unit):
    login(client, dispatcher)
    data = {"dispatch-unit": unit.pk, "dispatch-version": incident.version}
    data["dispatch-unit_version"] = unit.version
    Incident.objects.filter(pk=incident.pk).update(version=incident.version + 1)
    response = client.post(reverse("console:dispatch", args=[incident.pk]), data)
    assert response.status_code == 409
    assert "Someone else changed it" in response.content.decode()
    assert not Assignment.objects.exists()


def test_priority_note_and_closure(client, dispatcher, incident):
    login(client, dispatcher)
    url = reverse("console:priority", args=[incident.pk])
    data = {"priority-priority": 1, "priority-reason": "", "priority-version": 1}
    response = client.post(url, data)
    assert response.status_code == 400
    assert response.context["forms"]["priority"].errors["reason"]
    data["priority-reason"] = "Hay heridos"
    assert client.post(url, data).status_code == 302
    note = client.post(reverse("console:note", args=[incident.pk]), {"note-body": "Llamar"})
    assert note.status_code == 302
    close = {"close-outcome": "Resuelto", "close-version": 2}
    response = client.post(reverse("console:close", args=[incident.pk]), close)
    assert response.status_code == 409  # the note moved the version on
    close["close-version"] = 3
    assert client.post(reverse("console:close", args=[incident.pk]), close).status_code == 302
    incident.refresh_from_db()
    assert (incident.priority, incident.status) == (1, Incident.Status.CLOSED)


def test_a_supervisor_reopens_links_and_transfers(client, supervisor, world, types, incident):
    other = IncidentFactory(
        city=world.city, type=types.rina, locality=world.kennedy, institution=world.police
    )
    login(client, supervisor)
    link = {
        "link-reference": other.reference,
        "link-mode": "link",
        "link-reason": "Misma riña",
        "link-version": 1,
    }
    assert client.post(reverse("console:link", args=[incident.pk]), link).status_code == 302
    assert list(incident.linked.all()) == [other]
    bad = {**link, "link-reference": "nonsense"}
    response = client.post(reverse("console:link", args=[incident.pk]), bad)
    assert response.status_code == 400
    transfer = {
        "transfer-to_institution": world.secretariat.pk,
        "transfer-reason": "Competencia",
        "transfer-version": 2,
    }
    assert client.post(reverse("console:transfer", args=[incident.pk]), transfer).status_code == 302
    close = {"close-outcome": "Fin", "close-version": 3}
    client.post(reverse("console:close", args=[incident.pk]), close)
    reopen = {"reopen-reason": "Volvió a empezar", "reopen-version": 4}
    assert client.post(reverse("console:reopen", args=[incident.pk]), reopen).status_code == 302
    incident.refresh_from_db()
    assert incident.status == Incident.Status.NEW


def test_a_call_taker_cannot_supervise(client, call_taker, incident):
    login(client, call_taker)
    data = {"reopen-reason": "x", "reopen-version": 1}
    assert client.post(reverse("console:reopen", args=[incident.pk]), data).status_code == 403


def test_a_victim_is_referred_only_with_consent(client, dispatcher, world, incident):
    login(client, dispatcher)
    url = reverse("console:referral", args=[incident.pk])
    data = {"referral-service": world.justice_house.pk, "referral-consent_note": "Aceptó"}
    response = client.post(url, data)
    assert response.status_code == 400
    assert response.context["forms"]["referral"].errors["consent_given"]
    assert not incident.events.filter(kind=Kind.REFERRED).exists()
    data["referral-consent_given"] = "on"
    assert client.post(url, data).status_code == 302
    assert incident.events.filter(kind=Kind.REFERRED).exists()
