"""An SOS becomes a command-centre incident in the same transaction, and whoever holds the
tracking code follows that incident's public steps (page, live fragment, API)."""

import json
import logging

import pytest
from django.db import transaction
from django.urls import reverse

from conftest import login
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.incidents.actions import (
    check_close,
    check_create_incident_from_report,
    check_reopen,
    check_unit_progress,
)
from convive.incidents.models import Incident, IncidentSource, Priority
from convive.incidents.tests import conftest as incidents_conftest
from convive.incidents.tests.factories import KENNEDY_POINT, dispatch
from convive.reports.actions import check_change_status, check_create_report
from convive.reports.inbox_views import _incident_context
from convive.reports.models import Report
from convive.reports.tests.test_intake import report_input
from convive.units.tests.factories import UnitFactory

types = incidents_conftest.types  # Riña, Robo, SOS


def send_sos(**overrides) -> Report:
    report, created = check_create_report(
        None, report_input(category_code="sos", anonymous=True, **overrides)
    )
    assert created
    return report


def move(dispatcher, report: Report, *steps: str):
    """Dispatch a patrol to the report's incident and move it through ``steps``."""
    incident = Incident.objects.get(sources__report=report)
    unit = UnitFactory(institution=dispatcher.active_memberships[0].institution, at=KENNEDY_POINT)
    dispatch(dispatcher, incident, unit)
    for step in steps:
        unit.refresh_from_db()
        incident.refresh_from_db()
        check_unit_progress(
            dispatcher, incident, unit, step=step, expected_unit_version=unit.version
        )
    return unit


def test_an_sos_becomes_a_p1_incident_at_once(world, catalogue, types):
    report = send_sos()

    incident = Incident.objects.get()
    source = IncidentSource.objects.get()
    assert (incident.type, incident.priority, incident.status) == (types.sos, Priority.P1, "new")
    assert (incident.lon, incident.lat) == KENNEDY_POINT
    assert incident.locality == world.kennedy
    assert (source.kind, source.report) == (IncidentSource.Kind.SOS, report)
    assert [e.kind for e in incident.events.all()] == ["created"]
    assert report.status == Report.Status.SOS  # the report keeps its own status


def test_an_ordinary_report_makes_no_incident(catalogue, types):
    check_create_report(None, report_input())
    assert not Incident.objects.exists()


def test_a_retried_sos_makes_one_incident(catalogue, types):
    first = send_sos(idempotency_key="same-key-0001")
    again, created = check_create_report(
        None, report_input(category_code="sos", anonymous=True, idempotency_key="same-key-0001")
    )
    assert (again, created) == (first, False)
    assert Incident.objects.count() == 1


def test_without_the_sos_type_the_sos_is_kept_and_the_failure_logged(world, catalogue, caplog):
    with caplog.at_level(logging.ERROR, logger="convive.reports.actions"):
        report = send_sos()
    assert Report.objects.get() == report
    assert report.status == Report.Status.SOS
    assert not Incident.objects.exists()
    assert f"SOS report {report.pk} did not become an incident" in caplog.text


def test_the_tracking_page_shows_the_response_and_never_the_unit(
    client, catalogue, types, dispatcher, english
):
    report = send_sos()
    unit = move(dispatcher, report, "en_route")

    page = client.get(reverse("reports:follow", args=[report.tracking_code]))
    html = page.content.decode()
    assert page.status_code == 200
    assert 'data-testid="incident-status"' in html
    assert "A unit is on its way" in html
    for step in ("The command centre took charge", "A unit was sent", "The unit is on its way"):
        assert step in html
    assert unit.call_sign not in html
    assert "reports/js/follow.js" in html  # open: the page refreshes it by itself


def test_a_report_that_is_no_incident_shows_no_response_section(client, catalogue):
    report, _ = check_create_report(None, report_input())
    html = client.get(reverse("reports:follow", args=[report.tracking_code])).content.decode()
    assert 'data-testid="incident-status"' not in html
    assert "follow.js" not in html


def test_the_live_fragment_answers_204_until_something_changes(
    client, catalogue, types, dispatcher, english
):
    report = send_sos()
    url = reverse("reports:live", args=[report.tracking_code])
    first = client.get(url)
    assert first.status_code == 200  # no version given: the section
    version = first.content.decode().split('data-version="', 1)[1].split('"', 1)[0]
    assert first["Cache-Control"].startswith("no-store") or "no-store" in first["Cache-Control"]

    assert client.get(url, {"v": version}).status_code == 204

    move(dispatcher, report, "en_route", "on_scene")
    changed = client.get(url, {"v": version})
    assert changed.status_code == 200
    assert "The unit arrived" in changed.content.decode()
    assert "A unit is at the scene" in changed.content.decode()


def test_the_live_fragment_of_a_report_without_incident_is_empty(client, catalogue):
    report, _ = check_create_report(None, report_input())
    response = client.get(reverse("reports:live", args=[report.tracking_code]))
    assert (response.status_code, response.content) == (204, b"")


def test_the_live_fragment_of_an_unknown_code_is_404(client, db):
    assert client.get(reverse("reports:live", args=["ZZZZ-ZZZZ-ZZZZ"])).status_code == 404


def test_a_closed_incident_stops_the_refresh(client, catalogue, types, dispatcher, english):
    report = send_sos()
    move(dispatcher, report, "en_route", "on_scene", "cleared")
    incident = Incident.objects.get()
    check_close(dispatcher, incident, outcome="Atendido", expected_version=incident.version)
    html = client.get(reverse("reports:follow", args=[report.tracking_code])).content.decode()
    assert "Closed" in html
    assert "follow.js" not in html
    assert "data-live-url" not in html


@pytest.mark.parametrize("language", ["es", "en"])
def test_the_api_tracks_the_response(client, catalogue, types, dispatcher, settings, language):
    settings.LANGUAGE_CODE = language
    report = send_sos()
    move(dispatcher, report)
    body = client.get(f"/api/v1/reports/track/{report.tracking_code}").json()
    incident = body["incident"]
    assert (incident["status"], incident["is_open"]) == ("dispatched", True)
    assert [s["kind"] for s in incident["steps"]] == ["created", "dispatched"]
    assert incident["status_label"] == (
        "A unit was sent" if language == "en" else "Se envió una unidad"
    )


def test_the_inbox_shows_the_incident_an_sos_became(client, catalogue, types, platform_admin):
    report = send_sos()
    incident = Incident.objects.get()
    login(client, platform_admin)
    html = client.get(reverse("inbox:detail", args=[report.pk])).content.decode()
    assert 'data-testid="report-incident"' in html
    assert reverse("console:detail", args=[incident.pk]) in html  # may open it: a link


def test_the_incident_is_named_but_not_linked_for_who_may_not_open_it(catalogue, types, citizen):
    report = send_sos()
    found = _incident_context(citizen, report)
    assert (found["incident"], found["incident_link"]) == (Incident.objects.get(), False)


def test_a_report_without_incident_names_none(catalogue, platform_admin):
    report, _ = check_create_report(None, report_input())
    assert _incident_context(platform_admin, report) == {"incident": None, "incident_link": False}


def on_the_incident(action, actor, **fields) -> Incident:
    """Run a command-centre action on the one incident, as its view would."""
    incident = Incident.objects.get()
    with transaction.atomic():
        return action(actor, incident, expected_version=incident.version, **fields)


def close_incident(dispatcher) -> Incident:
    return on_the_incident(check_close, dispatcher, outcome="Agresor retenido; víctima atendida.")


def test_closing_the_incident_closes_the_sos_and_the_citizen_may_rate(
    client, catalogue, types, dispatcher
):
    report = send_sos()
    close_incident(dispatcher)

    report.refresh_from_db()
    assert report.status == Report.Status.CLOSED
    assert report.closed_at is not None
    assert report.outcome.startswith("El centro de mando cerró")  # the site's language
    assert "Agresor" not in report.outcome  # never the staff's own outcome
    step = report.events.get(kind="status")
    assert (step.public, step.status, step.author) == (True, "closed", dispatcher)
    audit = AuditEvent.objects.filter(tag=AuditTag.REPORT_STATUS_CHANGED).get()
    assert json.loads(audit.data) == {
        "from": "sos",
        "incident": Incident.objects.get().pk,
        "to": "closed",
    }
    html = client.get(reverse("reports:follow", args=[report.tracking_code])).content.decode()
    assert 'data-testid="rating-form"' in html


def test_a_promoted_report_keeps_its_own_handling(catalogue, types, dispatcher, world):
    report, _ = check_create_report(None, report_input())
    check_create_incident_from_report(dispatcher, report, type_code=types.rina.code)
    close_incident(dispatcher)
    report.refresh_from_db()
    assert report.status == Report.Status.RECEIVED


def reopen_incident(dispatcher) -> Incident:
    return on_the_incident(check_reopen, dispatcher, reason="La víctima llama de nuevo")


def test_reopening_the_incident_reopens_the_sos_that_closed_with_it(
    client, catalogue, types, dispatcher
):
    report = send_sos()
    close_incident(dispatcher)
    reopen_incident(dispatcher)

    report.refresh_from_db()
    assert (report.status, report.closed_at, report.outcome) == (Report.Status.SOS, None, "")
    step = report.events.filter(kind="status").last()
    assert (step.public, step.status) == (True, "sos")
    assert step.body.startswith("El centro de mando reabrió")
    audits = AuditEvent.objects.filter(tag=AuditTag.REPORT_STATUS_CHANGED).order_by("pk")
    assert json.loads(audits.last().data) == {
        "from": "closed",
        "incident": Incident.objects.get().pk,
        "to": "sos",
    }
    html = client.get(reverse("reports:follow", args=[report.tracking_code])).content.decode()
    assert "data-live-url" in html  # followed live again
    assert html.count("Reabierto") == 2  # the incident's step and the report's own
    assert 'data-testid="rating-form"' not in html


def test_an_sos_closed_from_the_inbox_stays_closed_when_the_incident_reopens(
    catalogue, types, dispatcher, platform_admin
):
    report = send_sos()
    with transaction.atomic():
        locked = Report.objects.select_for_update().get(pk=report.pk)
        check_change_status(platform_admin, locked, status="closed", text="Falsa alarma.")
    close_incident(dispatcher)
    reopen_incident(dispatcher)

    report.refresh_from_db()
    assert (report.status, report.outcome) == (Report.Status.CLOSED, "Falsa alarma.")
