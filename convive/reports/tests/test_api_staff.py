"""``/api/v1/reports``: the staff inbox, a report in full, and every staff action, with scoping."""

import json

import pytest
from django.test import Client

from conftest import login
from convive.accounts.tests.factories import UserFactory
from convive.core.geo import h3_cell
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.institutions.models import Institution
from convive.institutions.tests.factories import InstitutionFactory
from convive.reports.models import Report, ReportEvent, ReportingRestriction
from convive.reports.tests.conftest import KENNEDY_POINT, SUBA_POINT
from convive.reports.tests.factories import ReportFactory

URL = "/api/v1/reports"
EN = {"HTTP_ACCEPT_LANGUAGE": "en"}


def report_at(world, category, point, **fields) -> Report:
    lon, lat = point
    locality = world.kennedy if point == KENNEDY_POINT else world.suba
    return ReportFactory(
        city=world.city,
        category=category,
        lon=lon,
        lat=lat,
        h3_cell=h3_cell(lon, lat),
        locality=locality,
        **fields,
    )


@pytest.fixture
def cases(world, catalogue, citizen):
    """Police reports in Kennedy (one urgent) and Suba; a noise report of the Alcaldía."""
    c = type("Cases", (), {})()
    c.kennedy = report_at(
        world,
        catalogue.robo,
        KENNEDY_POINT,
        institution=world.police,
        reporter=citizen,
        contact_phone="3001234567",
        answers={"hora": "noche"},
    )
    c.urgent = report_at(
        world, catalogue.robo, KENNEDY_POINT, institution=world.police, is_urgent=True
    )
    c.suba = report_at(world, catalogue.robo, SUBA_POINT, institution=world.police)
    c.noise = report_at(world, catalogue.ruido, KENNEDY_POINT, institution=catalogue.alcaldia)
    return c


def post(client, path: str, payload: dict):
    return client.post(f"{URL}{path}", json.dumps(payload), content_type="application/json", **EN)


def ids(response) -> list[int]:
    return [r["id"] for r in response.json()["data"]]


# --- Inbox and scoping --------------------------------------------------------------------------


def test_a_kennedy_supervisor_sees_kennedy_police_reports_only(client, cases, supervisor):
    login(client, supervisor)
    response = client.get(f"{URL}/inbox")
    assert response.status_code == 200
    assert ids(response) == [cases.urgent.pk, cases.kennedy.pk]  # urgent first
    assert response.json()["count"] == 2
    assert client.get(f"{URL}/{cases.suba.pk}").status_code == 404
    assert client.get(f"{URL}/{cases.noise.pk}").status_code == 404


def test_the_police_administrator_sees_every_police_report(client, cases, institution_admin):
    login(client, institution_admin)
    everything = {cases.kennedy.pk, cases.urgent.pk, cases.suba.pk}
    assert set(ids(client.get(f"{URL}/inbox"))) == everything
    assert client.get(f"{URL}/{cases.suba.pk}").status_code == 200


def test_inbox_filters(client, cases, world, institution_admin):
    login(client, institution_admin)
    get = lambda **params: ids(client.get(f"{URL}/inbox", params))  # noqa: E731
    assert get(territory=world.suba.pk) == [cases.suba.pk]
    assert get(urgent="true") == [cases.urgent.pk]
    assert get(category="ruido") == []
    assert set(get(status="open")) == {cases.kennedy.pk, cases.urgent.pk, cases.suba.pk}
    assert get(status="closed") == []
    assert get(unrouted="true") == []
    page = client.get(f"{URL}/inbox", {"limit": 1, "offset": 1}).json()
    assert (len(page["data"]), page["count"]) == (1, 3)


@pytest.mark.parametrize(
    ("params", "status"),
    [({"status": "nope"}, 400), ({"category": "nope"}, 400), ({"limit": 0}, 422)],
)
def test_inbox_bad_filters(client, cases, institution_admin, params, status):
    login(client, institution_admin)
    response = client.get(f"{URL}/inbox", params, **EN)
    assert response.status_code == status
    assert response.json()["ok"] is False


def test_inbox_needs_a_staff_role(client, cases, citizen):
    assert Client().get(f"{URL}/inbox").status_code == 401
    login(client, citizen)
    response = client.get(f"{URL}/inbox")
    assert response.status_code == 403
    assert response.json() == {
        "ok": False,
        "error": response.json()["error"],
        "errors": [],
        "status": 403,
    }


def test_the_detail_shows_everything_and_records_the_look(client, cases, supervisor, citizen):
    login(client, supervisor)
    body = client.get(f"{URL}/{cases.kennedy.pk}").json()
    assert body["reporter"] == citizen.username
    assert body["contact_phone"] == "3001234567"
    assert body["answers"] == {"hora": "noche"}
    assert body["locality"] == "Kennedy"
    assert body["timeline"] == []
    event = AuditEvent.objects.get(tag=AuditTag.REPORT_DETAIL_VIEWED)
    assert (event.actor_user_id, event.subject_id) == (supervisor.pk, str(cases.kennedy.pk))


# --- Staff actions ------------------------------------------------------------------------------


def test_status_change_and_its_conflicts(client, cases, supervisor):
    login(client, supervisor)
    path = f"/{cases.kennedy.pk}/status"
    response = post(client, path, {"status": "in_progress", "expected_status": "received"})
    assert response.status_code == 200
    assert response.json()["status"] == "in_progress"
    stale = post(client, path, {"status": "assigned", "expected_status": "received"})
    assert stale.status_code == 409
    assert "In progress" in stale.json()["error"]  # the current state, to decide again
    same = post(client, path, {"status": "in_progress"})
    assert same.status_code == 409
    assert "Now:" in same.json()["error"]
    needs_text = post(client, path, {"status": "resolved"})
    assert needs_text.status_code == 400
    assert needs_text.json()["errors"][0]["field"] == "text"
    assert post(client, path, {"status": "nope"}).status_code == 400
    cases.kennedy.refresh_from_db()
    assert cases.kennedy.status == Report.Status.IN_PROGRESS
    assert AuditEvent.objects.filter(tag=AuditTag.REPORT_STATUS_CHANGED).count() == 1


def test_reply_and_note(client, cases, supervisor):
    login(client, supervisor)
    reply = post(client, f"/{cases.kennedy.pk}/replies", {"body": "Vamos en camino."})
    note = post(client, f"/{cases.kennedy.pk}/notes", {"body": "Pedir video al banco."})
    assert (reply.status_code, note.status_code) == (201, 201)
    assert (reply.json()["public"], note.json()["public"]) == (True, False)
    assert note.json()["author"] == (supervisor.get_full_name() or supervisor.username)
    kinds = list(cases.kennedy.events.values_list("kind", "public"))
    assert kinds == [(ReportEvent.Kind.REPLY, True), (ReportEvent.Kind.NOTE, False)]
    assert post(client, f"/{cases.kennedy.pk}/replies", {"body": ""}).status_code == 422
    assert post(client, f"/{cases.kennedy.pk}/notes", {"body": "   "}).status_code == 400


def test_assign(client, cases, supervisor, institution_admin, dispatcher):
    login(client, supervisor)
    response = post(client, f"/{cases.kennedy.pk}/assignee", {"user_id": institution_admin.pk})
    assert response.status_code == 200
    assert response.json()["status"] == "assigned"
    outsider = post(client, f"/{cases.kennedy.pk}/assignee", {"user_id": dispatcher.pk})
    assert outsider.status_code == 400  # works for the secretariat, not the police
    assert post(client, f"/{cases.kennedy.pk}/assignee", {"user_id": 999999}).status_code == 400
    cases.kennedy.refresh_from_db()
    assert cases.kennedy.assignee == institution_admin


def test_reroute(client, cases, world, institution_admin):
    login(client, institution_admin)
    path = f"/{cases.kennedy.pk}/institution"
    response = post(client, path, {"institution_id": world.secretariat.pk, "reason": "Es ruido"})
    assert response.status_code == 200
    assert response.json()["institution"] == "Secretaría de Seguridad"
    # It left the police: the administrator no longer reaches it.
    again = post(client, path, {"institution_id": world.police.pk, "reason": "volver"})
    assert again.status_code == 404
    elsewhere = InstitutionFactory(kind=Institution.Kind.POLICE)
    path = f"/{cases.suba.pk}/institution"
    assert post(client, path, {"institution_id": elsewhere.pk, "reason": "x"}).status_code == 400
    assert post(client, path, {"institution_id": 999999, "reason": "x"}).status_code == 400
    assert post(client, path, {"institution_id": world.police.pk, "reason": "x"}).status_code == 409


def test_hide_show_and_moderation_rights(client, cases, supervisor, call_taker):
    login(client, call_taker)  # handles reports, does not moderate them
    assert post(client, f"/{cases.kennedy.pk}/hide", {"reason": "spam"}).status_code == 403
    login(client, supervisor)
    assert post(client, f"/{cases.kennedy.pk}/hide", {"reason": "spam"}).json()["is_hidden"]
    twice = post(client, f"/{cases.kennedy.pk}/hide", {"reason": "spam"})
    assert twice.status_code == 409
    assert "hidden" in twice.json()["error"]
    assert not post(client, f"/{cases.kennedy.pk}/show", {"reason": "ok"}).json()["is_hidden"]
    assert post(client, f"/{cases.kennedy.pk}/show", {"reason": "ok"}).status_code == 409
    tags = set(AuditEvent.objects.values_list("tag", flat=True))
    assert {AuditTag.REPORT_HIDDEN, AuditTag.REPORT_SHOWN} <= tags


def test_restrict_the_reporter(client, cases, supervisor, citizen):
    login(client, supervisor)
    path = f"/{cases.kennedy.pk}/reporter-restriction"
    response = post(client, path, {"days": 7, "reason": "Reportes falsos"})
    assert response.status_code == 201
    assert response.json()["report_id"] == cases.kennedy.pk
    assert ReportingRestriction.objects.get().user == citizen
    assert post(client, path, {"days": 0, "reason": "x"}).status_code == 400
    anonymous = f"/{cases.urgent.pk}/reporter-restriction"
    assert post(client, anonymous, {"days": 7, "reason": "x"}).status_code == 409


def test_staff_actions_are_scoped(client, cases, supervisor):
    login(client, supervisor)
    for path, payload in [
        ("status", {"status": "in_progress"}),
        ("replies", {"body": "hola"}),
        ("notes", {"body": "hola"}),
        ("hide", {"reason": "x"}),
    ]:
        assert post(client, f"/{cases.suba.pk}/{path}", payload).status_code == 404
    assert not cases.suba.events.exists()


def test_a_citizen_cannot_act_as_staff(client, cases, citizen):
    login(client, citizen)
    assert post(client, f"/{cases.kennedy.pk}/replies", {"body": "x"}).status_code == 403
    assert Client().post(f"{URL}/{cases.kennedy.pk}/replies", {}).status_code == 401


def test_a_staff_session_needs_its_csrf_token(cases, supervisor):
    client = login(Client(enforce_csrf_checks=True), supervisor)
    response = post(client, f"/{cases.kennedy.pk}/replies", {"body": "hola"})
    assert response.status_code in (401, 403)
    assert not cases.kennedy.events.exists()


def test_an_unknown_person_is_not_found(client, cases, supervisor):
    login(client, supervisor)
    inactive = UserFactory(is_active=False)
    response = post(client, f"/{cases.kennedy.pk}/assignee", {"user_id": inactive.pk})
    assert response.status_code == 400
