"""What staff do from a report in the inbox: each form's success, its refusals (nothing changes,
the reason is shown next to the form) and the audit entry each step leaves."""

from __future__ import annotations

from contextlib import contextmanager

import pytest
from django.core import mail
from django.urls import reverse
from django.utils import translation

from conftest import _member, login
from convive.accounts.roles import Role
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.reports.models import Report, ReportEvent, ReportingRestriction
from convive.reports.tests.test_inbox import make_report


@pytest.fixture(autouse=True)
def english(client):
    """Pages in English (the msgids); the catalogue data then shows its ``_en`` columns.

    The language the middleware activates outlives the request: put the previous one back.
    """
    client.defaults["HTTP_ACCEPT_LANGUAGE"] = "en"
    with translation.override(translation.get_language()):
        yield


@pytest.fixture
def robo(catalogue, citizen) -> Report:
    """A robbery in Kennedy, reported from an account: the police handle it."""
    return make_report("robo", reporter=citizen, contact_email="lucia@example.org")


def post(client, name: str, report: Report, data: dict):
    prefix = name if name != "status" else "status"
    fields = {f"{prefix}-{key}": value for key, value in data.items()}
    return client.post(reverse(f"inbox:{name}", args=[report.pk]), fields)


def state(report: Report) -> dict:
    """Everything a refused action must leave as it was."""
    fresh = Report.objects.get(pk=report.pk)
    return {
        "report": {
            name: getattr(fresh, name)
            for name in [
                "status",
                "outcome",
                "institution_id",
                "assignee_id",
                "routing_note",
                "is_hidden",
                "hidden_reason",
            ]
        },
        "events": list(ReportEvent.objects.filter(report=report).values_list("pk", flat=True)),
        "restrictions": ReportingRestriction.objects.count(),
        "staff_audit": AuditEvent.objects.exclude(tag=AuditTag.REPORT_DETAIL_VIEWED).count(),
    }


@contextmanager
def unchanged(report: Report):
    before = state(report)
    yield
    assert state(report) == before


def refusal(response, status: int, message: str) -> None:
    """The report page again, with the status, the message next to the form, the text kept."""
    assert response.status_code == status
    assert response.templates[0].name == "reports/inbox_detail.html"
    assert message in response.content.decode()


def audit(tag: AuditTag) -> AuditEvent:
    return AuditEvent.objects.filter(tag=tag).get()


# --- Reply ----------------------------------------------------------------------------------


def test_reply(client, robo, supervisor, django_capture_on_commit_callbacks):
    login(client, supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "reply", robo, {"body": "Estamos revisando las cámaras."})
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:detail", args=[robo.pk])
    event = robo.events.get(kind=ReportEvent.Kind.REPLY)
    assert (event.public, event.author, event.body) == (
        True,
        supervisor,
        "Estamos revisando las cámaras.",
    )
    assert audit(AuditTag.REPORT_REPLY_SENT).subject_id == str(robo.pk)
    assert [m.to for m in mail.outbox] == [["lucia@example.org"]]
    assert "Estamos revisando las cámaras." in mail.outbox[0].body
    page = client.get(response["Location"]).content.decode()
    assert "Reply sent. The citizen is notified." in page


def test_an_empty_reply_is_refused(client, robo, supervisor):
    login(client, supervisor)
    with unchanged(robo):
        response = post(client, "reply", robo, {"body": "   "})
    refusal(response, 400, "Write the reply.")


# --- Internal note --------------------------------------------------------------------------


def test_an_internal_note_is_kept_from_the_citizen(
    client, robo, supervisor, django_capture_on_commit_callbacks
):
    login(client, supervisor)
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "note", robo, {"body": "Coincide con otros dos casos."})
    assert response.status_code == 302
    event = robo.events.get(kind=ReportEvent.Kind.NOTE)
    assert event.public is False
    assert audit(AuditTag.REPORT_NOTE_ADDED).data == f'{{"event":{event.pk}}}'
    assert mail.outbox == []


def test_an_empty_note_is_refused(client, robo, supervisor):
    login(client, supervisor)
    with unchanged(robo):
        response = post(client, "note", robo, {"body": ""})
    refusal(response, 400, "Write the note.")


# --- Status ---------------------------------------------------------------------------------


def test_resolving_states_the_outcome_and_tells_the_citizen(
    client, robo, supervisor, django_capture_on_commit_callbacks
):
    login(client, supervisor)
    outcome = "Se capturó a los responsables."
    with django_capture_on_commit_callbacks(execute=True):
        response = post(client, "status", robo, {"status": "resolved", "text": outcome})
    assert response.status_code == 302
    robo.refresh_from_db()
    assert (robo.status, robo.outcome) == (Report.Status.RESOLVED, outcome)
    assert robo.closed_at is not None
    entry = audit(AuditTag.REPORT_STATUS_CHANGED)
    assert (entry.reason, entry.data) == (outcome, '{"from":"received","to":"resolved"}')
    assert len(mail.outbox) == 1
    assert outcome in mail.outbox[0].body


def test_resolving_without_an_outcome_is_refused(client, robo, supervisor):
    login(client, supervisor)
    with unchanged(robo):
        response = post(client, "status", robo, {"status": "resolved", "text": ""})
    refusal(response, 400, "Say how it was resolved: the citizen reads it.")
    assert response.context["forms"]["status"].is_bound  # the form stays open, as typed
    assert response.context["open_form"] == "status"


def test_a_status_the_report_already_has_is_a_conflict(client, robo, supervisor):
    login(client, supervisor)
    post(client, "status", robo, {"status": "in_progress", "text": ""})
    robo.refresh_from_db()
    assert robo.status == Report.Status.IN_PROGRESS
    # Another tab still offers "in progress": the action answers with a conflict. The page
    # shown again offers the statuses the report can move to.
    with unchanged(robo):
        response = post(client, "status", robo, {"status": "in_progress", "text": ""})
    refusal(response, 409, "The report already has this status.")
    assert "in_progress" not in dict(response.context["forms"]["status"].fields["status"].choices)
    with unchanged(robo):
        response = post(client, "status", robo, {"status": "sos", "text": ""})
    assert response.status_code == 400


# --- Assign ---------------------------------------------------------------------------------


def test_assign_to_a_member_of_the_institution(client, robo, supervisor, field_unit):
    login(client, supervisor)
    response = post(client, "assign", robo, {"assignee": field_unit.pk})
    assert response.status_code == 302
    robo.refresh_from_db()
    assert (robo.assignee, robo.status) == (field_unit, Report.Status.ASSIGNED)
    assert audit(AuditTag.REPORT_ASSIGNEE_CHANGED).data == '{"assignee":"patrulla"}'


def test_only_members_of_the_institution_can_be_assigned(client, robo, supervisor, call_taker):
    login(client, supervisor)
    choices = client.get(reverse("inbox:detail", args=[robo.pk])).context["forms"]["assign"]
    people = set(choices.fields["assignee"].queryset)
    assert supervisor in people
    assert call_taker not in people
    with unchanged(robo):
        response = post(client, "assign", robo, {"assignee": call_taker.pk})
    assert response.status_code == 400


# --- Reroute --------------------------------------------------------------------------------


def test_reroute_with_a_reason(client, catalogue, supervisor, world):
    report = make_report("robo")
    login(client, supervisor)
    response = post(
        client,
        "reroute",
        report,
        {"institution": catalogue.alcaldia.pk, "reason": "Es un problema de convivencia."},
    )
    report.refresh_from_db()
    assert report.institution == catalogue.alcaldia
    assert report.routing_note == "Es un problema de convivencia."
    entry = audit(AuditTag.REPORT_INSTITUTION_CHANGED)
    assert entry.institution_name == "Policía Metropolitana"  # on behalf of the one it left
    assert entry.data == f'{{"from":{world.police.pk},"to":{catalogue.alcaldia.pk}}}'
    # The report left the supervisor's inbox: back to the list, not to a page they cannot see.
    assert response.status_code == 302
    assert response["Location"] == reverse("inbox:list")


def test_reroute_without_a_reason_is_refused(client, robo, supervisor, catalogue):
    login(client, supervisor)
    with unchanged(robo):
        response = post(client, "reroute", robo, {"institution": catalogue.alcaldia.pk})
    refusal(response, 400, "Say why it goes to another institution.")


def test_the_fallback_queue_is_emptied_by_rerouting(client, catalogue, call_taker, world):
    from convive.reports.tests.conftest import SUBA_POINT

    report = make_report("ruido", SUBA_POINT)
    assert report.institution is None
    login(client, call_taker)
    response = post(
        client, "reroute", report, {"institution": world.police.pk, "reason": "Hay una riña."}
    )
    assert response.status_code == 302
    report.refresh_from_db()
    assert report.institution == world.police


# --- Moderation -----------------------------------------------------------------------------


def test_hide_and_show(client, robo, supervisor):
    login(client, supervisor)
    response = post(client, "hide", robo, {"reason": "Insultos, no describe un problema."})
    assert response.status_code == 302
    robo.refresh_from_db()
    assert (robo.is_hidden, robo.hidden_reason) == (True, "Insultos, no describe un problema.")
    assert audit(AuditTag.REPORT_HIDDEN).reason == "Insultos, no describe un problema."
    forms = client.get(reverse("inbox:detail", args=[robo.pk])).context["forms"]
    assert "show" in forms
    assert "hide" not in forms
    assert post(client, "show", robo, {"reason": "Revisado."}).status_code == 302
    robo.refresh_from_db()
    assert robo.is_hidden is False
    assert audit(AuditTag.REPORT_SHOWN).reason == "Revisado."


def test_hiding_needs_a_reason_and_hiding_twice_is_a_conflict(client, robo, supervisor):
    login(client, supervisor)
    with unchanged(robo):
        response = post(client, "hide", robo, {"reason": ""})
    refusal(response, 400, "Say why the report is hidden.")
    post(client, "hide", robo, {"reason": "Spam."})
    with unchanged(robo):
        response = post(client, "hide", robo, {"reason": "Otra vez."})
    refusal(response, 409, "The report is already hidden.")


def test_staff_without_moderation_cannot_hide(client, catalogue, call_taker):
    report = make_report("alumbrado")
    login(client, call_taker)
    with unchanged(report):
        assert post(client, "hide", report, {"reason": "Spam."}).status_code == 403


def test_moderation_counts_only_where_the_person_moderates(client, catalogue, world):
    """A call-taker of the police who supervises the Alcaldía may not hide police reports."""
    person = _member(world, "mixta", Role.CALL_TAKER, world.police)
    person.memberships.create(institution=catalogue.alcaldia, role=Role.SUPERVISOR)
    police_report = make_report("robo")
    login(client, person)
    forms = client.get(reverse("inbox:detail", args=[police_report.pk])).context["forms"]
    assert "hide" not in forms
    assert "reply" in forms
    with unchanged(police_report):
        assert post(client, "hide", police_report, {"reason": "Spam."}).status_code == 404


def test_restrict_the_reporter(client, robo, supervisor, citizen):
    login(client, supervisor)
    response = post(client, "restrict", robo, {"days": 7, "reason": "Reportes falsos repetidos."})
    assert response.status_code == 302
    restriction = ReportingRestriction.objects.get()
    assert (restriction.user, restriction.created_by) == (citizen, supervisor)
    entry = audit(AuditTag.REPORT_REPORTER_RESTRICTED)
    assert entry.data == '{"days":7,"user":"ciudadana"}'


def test_restricting_needs_a_reason_and_sane_days(client, robo, supervisor):
    login(client, supervisor)
    with unchanged(robo):
        response = post(client, "restrict", robo, {"days": 7, "reason": ""})
    refusal(response, 400, "Say why the account is restricted.")
    with unchanged(robo):
        response = post(client, "restrict", robo, {"days": 0, "reason": "Spam."})
    assert response.status_code == 400


def test_anonymous_reporters_cannot_be_restricted(client, catalogue, supervisor):
    report = make_report("robo", anonymous=True)
    login(client, supervisor)
    forms = client.get(reverse("inbox:detail", args=[report.pk])).context["forms"]
    assert "restrict" not in forms
    with unchanged(report):
        response = post(client, "restrict", report, {"days": 7, "reason": "Spam."})
    refusal(response, 409, "Anonymous reports cannot be traced to anyone")


# --- Scope and audit, for every action -------------------------------------------------------

ACTIONS = {
    "reply": ({"body": "Hola."}, AuditTag.REPORT_REPLY_SENT),
    "note": ({"body": "Nota."}, AuditTag.REPORT_NOTE_ADDED),
    "status": ({"status": "in_progress", "text": ""}, AuditTag.REPORT_STATUS_CHANGED),
    "hide": ({"reason": "Spam."}, AuditTag.REPORT_HIDDEN),
    "restrict": ({"days": 3, "reason": "Spam."}, AuditTag.REPORT_REPORTER_RESTRICTED),
}


@pytest.mark.parametrize("name", ACTIONS)
def test_every_action_is_audited_with_its_actor(client, robo, supervisor, name):
    data, tag = ACTIONS[name]
    login(client, supervisor)
    assert post(client, name, robo, data).status_code == 302
    entry = audit(tag)
    assert (entry.actor_username, entry.subject_type, entry.subject_id) == (
        "supervisora",
        "reports.report",
        str(robo.pk),
    )


@pytest.mark.parametrize("name", [*ACTIONS, "assign", "reroute", "show"])
def test_no_action_reaches_a_report_out_of_scope(client, catalogue, supervisor, citizen, name):
    from convive.reports.tests.conftest import SUBA_POINT

    suba = make_report("robo", SUBA_POINT, reporter=citizen)
    login(client, supervisor)
    data = ACTIONS.get(name, ({"reason": "x", "institution": "1", "assignee": "1"}, None))[0]
    with unchanged(suba):
        assert post(client, name, suba, data).status_code == 404
