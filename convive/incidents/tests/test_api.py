"""``/api/v1/incidents`` through the test client: the queue, intake, triage, dispatch."""

import json
from datetime import timedelta

import pytest
from django.utils import timezone

from conftest import login
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.incidents.models import Assignment, Incident, IncidentEvent
from convive.incidents.tests.factories import (
    KENNEDY_POINT,
    OUTSIDE_POINT,
    SUBA_POINT,
    IncidentFactory,
    call_times,
)
from convive.reports.tests.factories import ReportFactory
from convive.units.models import Unit
from convive.units.tests.factories import UnitFactory

URL = "/api/v1/incidents"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def post(client, path: str, payload: dict):
    return client.post(f"{URL}{path}", json.dumps(payload), content_type="application/json", **EN)


def get(client, path: str = "", **params):
    return client.get(f"{URL}{path}", params, **EN)


def ids(response) -> list[int]:
    return [row["id"] for row in response.json()["data"]]


@pytest.fixture
def unit(world):
    return UnitFactory(institution=world.police, call_sign="PAT-08-1", at=KENNEDY_POINT)


def call(**overrides) -> dict:
    received, answered = call_times()
    return {
        "type": "rina",
        "lon": KENNEDY_POINT[0],
        "lat": KENNEDY_POINT[1],
        "summary": "Pelea en la esquina",
        "caller_name": "Ana",
        "caller_phone": "3001234567",
        "received_at": received.isoformat(),
        "answered_at": answered.isoformat(),
        "protocol_answers": {"armas": "no"},
        **overrides,
    }


# --- The queue -----------------------------------------------------------------------------------


def test_the_queue_is_ordered_by_priority_then_age(client, call_taker, world, types):
    old_p3 = IncidentFactory(city=world.city, type=types.robo, priority=3)
    new_p1 = IncidentFactory(city=world.city, type=types.sos, priority=1)
    new_p3 = IncidentFactory(city=world.city, type=types.robo, priority=3)
    IncidentFactory(city=world.city, type=types.robo, status="closed")
    IncidentFactory(type=types.robo)  # another city
    Incident.objects.filter(pk=old_p3.pk).update(created_at=timezone.now() - timedelta(hours=1))
    login(client, call_taker)
    response = get(client)
    assert response.status_code == 200
    assert ids(response) == [new_p1.pk, old_p3.pk, new_p3.pk]
    assert response.json()["count"] == 3


def test_queue_filters_and_catching_up_after_a_reconnection(client, dispatcher, world, types):
    kennedy = IncidentFactory(city=world.city, type=types.rina, locality=world.kennedy)
    suba = IncidentFactory(city=world.city, type=types.robo, locality=world.suba)
    closed = IncidentFactory(city=world.city, type=types.robo, status="closed")
    long_ago = timezone.now() - timedelta(hours=2)
    Incident.objects.filter(pk=kennedy.pk).update(updated_at=long_ago)
    login(client, dispatcher)
    assert ids(get(client, type="robo-violencia")) == [suba.pk]
    assert ids(get(client, locality=world.kennedy.pk)) == [kennedy.pk]
    since = (timezone.now() - timedelta(minutes=30)).isoformat()
    assert set(ids(get(client, since=since))) == {suba.pk, closed.pk}
    response = get(client, status="lost")
    assert response.status_code == 400
    assert response.json()["errors"][0]["field"] == "status"


def test_a_supervisor_sees_their_territory_and_others_get_404(
    client, supervisor, analyst, world, types
):
    kennedy = IncidentFactory(city=world.city, type=types.rina, locality=world.kennedy)
    suba = IncidentFactory(city=world.city, type=types.rina, locality=world.suba)
    login(client, supervisor)
    assert ids(get(client)) == [kennedy.pk]
    assert get(client, f"/{suba.pk}").status_code == 404
    login(client, analyst)
    assert get(client).status_code == 403


def test_the_detail_has_sources_timeline_and_units_and_is_audited(
    client, call_taker, dispatcher, world, types, unit
):
    login(client, call_taker)
    created = post(client, "", call())
    assert created.status_code == 201, created.json()
    incident_id = created.json()["id"]
    login(client, dispatcher)
    dispatched = post(
        client,
        f"/{incident_id}/dispatch",
        {"unit_id": unit.pk, "expected_incident_version": 1, "expected_unit_version": 1},
    )
    assert dispatched.status_code == 201, dispatched.json()
    detail = get(client, f"/{incident_id}").json()
    assert detail["sources"][0]["caller_phone"] == "3001234567"
    kinds = [e["kind"] for e in detail["timeline"]]
    assert kinds == ["call_received", "call_answered", "created", "dispatched"]
    assert detail["assignments"][0]["call_sign"] == "PAT-08-1"
    assert detail["assignments"][0]["cleared_at"] is None
    assert AuditEvent.objects.filter(tag=AuditTag.INCIDENT_VIEWED).count() == 1


# --- Intake --------------------------------------------------------------------------------------


def test_a_call_taker_opens_an_incident_from_a_call(client, call_taker, world, types):
    login(client, call_taker)
    response = post(client, "", call())
    assert response.status_code == 201
    body = response.json()
    assert (body["type"], body["priority"], body["status"]) == ("rina", 2, "new")
    assert body["locality_id"] == world.kennedy.pk


@pytest.mark.parametrize(
    ("overrides", "status", "field", "message"),
    [
        ({"type": "ovni"}, 400, "type", "Unknown incident type"),
        (
            {"lon": OUTSIDE_POINT[0], "lat": OUTSIDE_POINT[1]},
            400,
            "location",
            "outside Testópolis",
        ),
        ({"lon": None, "lat": None}, 400, "location", "Say where"),
        ({"protocol_answers": {"zzz": "x"}}, 400, "protocol_answers", "not a question"),
        ({"received_at": "yesterday"}, 422, "body.payload.received_at", ""),
        ({"city": "atlantis"}, 400, "city", "Unknown city"),
    ],
)
def test_bad_calls_are_refused_naming_the_field(
    client, call_taker, types, overrides, status, field, message
):
    login(client, call_taker)
    response = post(client, "", call(**overrides))
    assert response.status_code == status, response.json()
    body = response.json()
    assert body["ok"] is False
    assert field in [e["field"] for e in body["errors"]]
    assert message in body["error"] + " ".join(e["message"] for e in body["errors"])
    assert Incident.objects.count() == 0


def test_a_report_becomes_an_incident_once(client, call_taker, world, types):
    report = ReportFactory(
        city=world.city,
        lon=SUBA_POINT[0],
        lat=SUBA_POINT[1],
        locality=world.suba,
        institution=world.secretariat,
    )
    login(client, call_taker)
    first = post(client, f"/from-report/{report.pk}", {"type": "robo-violencia"})
    assert first.status_code == 201, first.json()
    again = post(client, f"/from-report/{report.pk}", {"type": "robo-violencia"})
    assert again.status_code == 200
    assert again.json()["id"] == first.json()["id"]
    assert post(client, "/from-report/999999", {"type": "rina"}).status_code == 404


# --- Triage, hand-off, closure -------------------------------------------------------------------


def test_priority_with_a_stale_version_is_a_409_with_the_current_state(
    client, dispatcher, incident
):
    login(client, dispatcher)
    ok = post(
        client, f"/{incident.pk}/priority", {"priority": 1, "reason": "Arma", "expected_version": 1}
    )
    assert ok.status_code == 200
    assert (ok.json()["priority"], ok.json()["version"]) == (1, 2)
    stale = post(
        client, f"/{incident.pk}/priority", {"priority": 4, "reason": "No", "expected_version": 1}
    )
    assert stale.status_code == 409
    body = stale.json()
    assert body["current"]["version"] == 2
    assert body["current"]["priority"] == 1
    assert body["errors"][0]["field"] == "expected_version"
    incident.refresh_from_db()
    assert (incident.priority, incident.version) == (1, 2)


def test_note_transfer_close_reopen(client, supervisor, world, incident):
    login(client, supervisor)
    note = post(client, f"/{incident.pk}/note", {"body": "Llamó otra vecina"})
    assert note.status_code == 201
    assert note.json()["kind"] == "note"
    transfer = post(
        client,
        f"/{incident.pk}/transfer",
        {"institution_id": world.secretariat.pk, "reason": "Competencia", "expected_version": 2},
    )
    assert transfer.status_code == 200, transfer.json()
    assert transfer.json()["institution_id"] == world.secretariat.pk
    bad = post(
        client,
        f"/{incident.pk}/transfer",
        {"institution_id": 0, "reason": "x", "expected_version": 3},
    )
    assert (bad.status_code, bad.json()["errors"][0]["field"]) == (400, "institution_id")
    closed = post(client, f"/{incident.pk}/close", {"outcome": "Resuelto", "expected_version": 3})
    assert closed.json()["status"] == "closed"
    again = post(client, f"/{incident.pk}/close", {"outcome": "Otra vez", "expected_version": 4})
    assert again.status_code == 409
    assert again.json()["current"]["status"] == "closed"
    reopened = post(
        client, f"/{incident.pk}/reopen", {"reason": "Volvieron", "expected_version": 4}
    )
    assert reopened.json()["status"] == "new"


def test_a_call_taker_may_not_supervise(client, call_taker, incident):
    login(client, call_taker)
    response = post(client, f"/{incident.pk}/reopen", {"reason": "x", "expected_version": 1})
    assert response.status_code == 403


def test_link_and_merge(client, dispatcher, world, types, incident):
    other = IncidentFactory(city=world.city, type=types.rina, priority=1)
    login(client, dispatcher)
    versions = {str(incident.pk): 1, str(other.pk): 1}
    linked = post(
        client,
        f"/{incident.pk}/link",
        {"other_id": other.pk, "reason": "Misma riña", "expected_versions": versions},
    )
    assert linked.status_code == 200, linked.json()
    stale = post(
        client,
        f"/{incident.pk}/merge",
        {"other_id": other.pk, "reason": "Duplicado", "expected_versions": versions},
    )
    assert stale.status_code == 409
    assert stale.json()["current"]["version"] == 2
    merged = post(
        client,
        f"/{incident.pk}/merge",
        {
            "other_id": other.pk,
            "reason": "Duplicado",
            "expected_versions": {str(incident.pk): 2, str(other.pk): 2},
        },
    )
    assert merged.status_code == 200
    assert merged.json()["id"] == other.pk
    incident.refresh_from_db()
    assert (incident.status, incident.merged_into_id) == ("closed", other.pk)


def test_a_referral_needs_consent(client, dispatcher, world, incident):
    login(client, dispatcher)
    payload = {"service_id": world.justice_house.pk, "consent_given": False, "consent_note": "x"}
    refused = post(client, f"/{incident.pk}/referral", payload)
    assert (refused.status_code, refused.json()["errors"][0]["field"]) == (400, "consent_given")
    payload |= {"consent_given": True, "consent_note": "Aceptó por teléfono"}
    assert post(client, f"/{incident.pk}/referral", payload).status_code == 201


# --- Recommendations and dispatch ----------------------------------------------------------------


def test_recommendations_rank_suitable_units(client, dispatcher, world, incident, unit):
    far = UnitFactory(institution=world.police, call_sign="PAT-11-1", at=SUBA_POINT)
    UnitFactory(institution=world.police, kind=Unit.Kind.AMBULANCE, at=KENNEDY_POINT)
    login(client, dispatcher)
    response = get(client, f"/{incident.pk}/recommendations", k=5)
    assert response.status_code == 200
    data = response.json()["data"]
    assert [r["unit_id"] for r in data] == [unit.pk, far.pk]
    assert data[0]["eta_seconds"] < data[1]["eta_seconds"]
    assert data[0]["reasons"]
    assert get(client, f"/{incident.pk}/recommendations", k=0).status_code == 422


def dispatch_payload(unit, incident_version=1, unit_version=1) -> dict:
    return {
        "unit_id": unit.pk,
        "expected_incident_version": incident_version,
        "expected_unit_version": unit_version,
    }


def test_a_dispatcher_sends_a_unit(client, dispatcher, incident, unit):
    login(client, dispatcher)
    response = post(client, f"/{incident.pk}/dispatch", dispatch_payload(unit))
    assert response.status_code == 201, response.json()
    body = response.json()
    assert body["event"]["kind"] == "dispatched"
    assert body["incident"]["status"] == "dispatched"
    assert (body["unit"]["status"], body["unit"]["version"]) == ("dispatched", 2)


@pytest.mark.parametrize(
    ("versions", "current_key", "current_version"),
    [((5, 1), "status", 1), ((1, 5), "call_sign", 1)],
)
def test_a_stale_dispatch_is_a_409_and_writes_nothing(
    client, dispatcher, incident, unit, versions, current_key, current_version
):
    login(client, dispatcher)
    response = post(client, f"/{incident.pk}/dispatch", dispatch_payload(unit, *versions))
    assert response.status_code == 409
    body = response.json()
    assert current_key in body["current"]
    assert body["current"]["version"] == current_version
    incident.refresh_from_db()
    unit.refresh_from_db()
    assert (incident.version, unit.version) == (1, 1)
    assert Assignment.objects.count() == 0
    assert not IncidentEvent.objects.filter(kind="dispatched").exists()


def test_dispatch_refusals(client, dispatcher, world, incident, unit):
    login(client, dispatcher)
    ambulance = UnitFactory(institution=world.police, kind=Unit.Kind.AMBULANCE, at=KENNEDY_POINT)
    missing = post(client, f"/{incident.pk}/dispatch", dispatch_payload(ambulance))
    assert missing.status_code == 400
    assert missing.json()["errors"][0]["field"] == "unit"
    assert "patrol" in missing.json()["error"]
    Unit.objects.filter(pk=unit.pk).update(status=Unit.Status.OUT_OF_SERVICE)
    busy = post(client, f"/{incident.pk}/dispatch", dispatch_payload(unit))
    assert busy.status_code == 409
    assert "not available" in busy.json()["error"]
    assert busy.json()["current"]["status"] == "out_of_service"
    unknown = post(client, f"/{incident.pk}/dispatch", {**dispatch_payload(unit), "unit_id": 0})
    assert unknown.status_code == 404
    assert Assignment.objects.count() == 0


def test_a_busy_unit_is_reassigned_only_when_asked(
    client, dispatcher, world, types, incident, unit
):
    login(client, dispatcher)
    post(client, f"/{incident.pk}/dispatch", dispatch_payload(unit))
    urgent = IncidentFactory(city=world.city, type=types.rina, priority=1)
    busy = post(client, f"/{urgent.pk}/dispatch", dispatch_payload(unit, 1, 2))
    assert busy.status_code == 409
    assert busy.json()["current"]["status"] == "dispatched"
    moved = post(
        client, f"/{urgent.pk}/dispatch", {**dispatch_payload(unit, 1, 2), "reassign": True}
    )
    assert moved.status_code == 201, moved.json()
    detail = get(client, f"/{incident.pk}").json()
    assert detail["assignments"][0]["cleared_at"] is not None
    assert detail["timeline"][-1]["kind"] == "cleared"


def test_a_call_taker_may_not_dispatch(client, call_taker, incident, unit):
    login(client, call_taker)
    assert post(client, f"/{incident.pk}/dispatch", dispatch_payload(unit)).status_code == 403


def test_field_steps_through_the_api(client, dispatcher, field_unit, incident, unit):
    login(client, dispatcher)
    post(client, f"/{incident.pk}/dispatch", dispatch_payload(unit))
    path = f"/{incident.pk}/units/{unit.pk}/progress"
    en_route = post(client, path, {"step": "en_route", "expected_unit_version": 2})
    assert en_route.status_code == 200, en_route.json()
    assert en_route.json()["incident"]["status"] == "en_route"
    stale = post(client, path, {"step": "on_scene", "expected_unit_version": 2})
    assert stale.status_code == 409
    assert stale.json()["current"]["status"] == "en_route"
    bad = post(client, path, {"step": "teleported", "expected_unit_version": 3})
    assert bad.status_code == 422
    cleared = post(client, path, {"step": "cleared", "expected_unit_version": 3})
    assert cleared.json()["unit"]["status"] == "available"
    # A field-unit account cannot use the console's endpoint, crew or not.
    unit.crew.add(field_unit)
    login(client, field_unit)
    response = post(client, path, {"step": "en_route", "expected_unit_version": 4})
    assert response.status_code == 403


def test_the_queue_reads_a_fixed_number_of_queries(
    client, dispatcher, world, types, django_assert_max_num_queries
):
    for _ in range(30):
        IncidentFactory(city=world.city, type=types.rina, locality=world.kennedy)
    login(client, dispatcher)
    with django_assert_max_num_queries(12):
        assert get(client).json()["count"] == 30
