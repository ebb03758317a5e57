"""Staff work on a report: each rule, the audit entry it leaves, and who is told about it."""

import uuid
from contextlib import contextmanager
from datetime import timedelta

import pytest
from django.core import mail
from django.utils import timezone

from convive.accounts.roles import Role
from convive.accounts.tests.factories import UserFactory
from convive.core.errors import ActionError
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.institutions.tests.factories import InstitutionFactory, MembershipFactory
from convive.integrations.sms.console import NullSmsBackend
from convive.reports.actions import (
    ReportInput,
    check_add_note,
    check_assign,
    check_change_status,
    check_create_report,
    check_hide,
    check_reply,
    check_reroute,
    check_restrict_reporter,
    check_show,
    do_record_report_view,
)
from convive.reports.models import Report, ReportEvent, ReportingRestriction
from convive.territories.tests.factories import CityFactory

KENNEDY_POINT = (-74.15, 4.60)
EMAIL, PHONE = "ana@example.org", "+573001112233"


def submit(reporter=None, **overrides):
    lon, lat = KENNEDY_POINT
    values = {
        "category_code": "robo",
        "idempotency_key": uuid.uuid4().hex,
        "channel": Report.Channel.WEB,
        "lon": lon,
        "lat": lat,
        "description": "Me robaron el celular en el paradero.",
        "contact_email": EMAIL,
        "contact_phone": PHONE,
    }
    report, _ = check_create_report(reporter, ReportInput(**{**values, **overrides}))
    return report


@pytest.fixture
def report(catalogue, citizen, world):
    """A named robbery in Kennedy, routed to the police (city-wide rule)."""
    report = submit(citizen)
    assert report.institution == world.police
    return report


@pytest.fixture
def notified(django_capture_on_commit_callbacks):
    """Run an action as a committed request would; give back its result, e-mails and SMS."""

    def run(action):
        mail.outbox.clear()
        NullSmsBackend.sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            result = action()
        emails = [address for message in mail.outbox for address in message.to]
        return result, emails, [to for to, _body in NullSmsBackend.sent]

    return run


def audit_of(report, tag):
    return AuditEvent.objects.get(tag=tag, subject_type="reports.report", subject_id=str(report.pk))


@contextmanager
def refused(field=None, status=400):
    """An ActionError for ``field``/``status``; no timeline step, no audit entry, no change."""
    report_rows = list(Report.objects.order_by("pk").values())
    before = (ReportEvent.objects.count(), AuditEvent.objects.count())
    with pytest.raises(ActionError) as caught:
        yield caught
    assert (caught.value.field, caught.value.status) == (field, status), caught.value.message
    assert (ReportEvent.objects.count(), AuditEvent.objects.count()) == before
    assert list(Report.objects.order_by("pk").values()) == report_rows


# --- Status ----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "status", [Report.Status.RESOLVED, Report.Status.CLOSED, Report.Status.REJECTED]
)
def test_closing_needs_a_text_for_the_citizen(report, supervisor, world, notified, status):
    with refused("text"):
        check_change_status(supervisor, report, status=status, text="   ")

    _, emails, phones = notified(
        lambda: check_change_status(supervisor, report, status=status, text=" Se recuperó. ")
    )

    report.refresh_from_db()
    assert (report.status, report.outcome) == (status, "Se recuperó.")
    assert report.closed_at is not None
    step = report.events.get(kind=ReportEvent.Kind.STATUS)
    assert (step.public, step.status, step.body, step.author) == (
        True,
        status,
        "Se recuperó.",
        supervisor,
    )
    entry = audit_of(report, AuditTag.REPORT_STATUS_CHANGED)
    assert (entry.institution_id, entry.reason, entry.actor_username) == (
        world.police.pk,
        "Se recuperó.",
        "supervisora",
    )
    assert entry.data_dict == {"from": "received", "to": status}
    assert (emails, phones) == ([EMAIL], [PHONE])


def test_an_open_status_needs_no_text_and_reopening_clears_the_closing(report, supervisor):
    check_change_status(supervisor, report, status=Report.Status.RESOLVED, text="Listo.")
    check_change_status(supervisor, report, status=Report.Status.IN_PROGRESS, text="")
    report.refresh_from_db()
    assert (report.status, report.closed_at) == (Report.Status.IN_PROGRESS, None)


@pytest.mark.parametrize("status", ["sos", "archivado", ""])
def test_only_a_real_status_other_than_sos_can_be_set(report, supervisor, status):
    with refused("status"):
        check_change_status(supervisor, report, status=status, text="x")


def test_setting_the_same_status_is_a_conflict(report, supervisor):
    with refused("status", status=409):
        check_change_status(supervisor, report, status=Report.Status.RECEIVED, text="")


# --- Replies and notes -----------------------------------------------------------------------


def test_a_reply_is_public_audited_and_sent(report, supervisor, world, notified):
    with refused("body"):
        check_reply(supervisor, report, body="  ")

    event, emails, phones = notified(lambda: check_reply(supervisor, report, body="Vamos."))

    assert (event.kind, event.public, event.institution) == (
        ReportEvent.Kind.REPLY,
        True,
        world.police,
    )
    entry = audit_of(report, AuditTag.REPORT_REPLY_SENT)
    assert (entry.institution_id, entry.data_dict) == (world.police.pk, {"event": event.pk})
    assert (emails, phones) == ([EMAIL], [PHONE])


def test_a_note_stays_inside_and_is_sent_to_nobody(report, supervisor, world, notified):
    with refused("body"):
        check_add_note(supervisor, report, body="")

    event, emails, phones = notified(
        lambda: check_add_note(supervisor, report, body="Revisar cámaras.")
    )

    assert (event.kind, event.public) == (ReportEvent.Kind.NOTE, False)
    entry = audit_of(report, AuditTag.REPORT_NOTE_ADDED)
    assert entry.institution_id == world.police.pk
    assert (emails, phones) == ([], [])


# --- Assignment ------------------------------------------------------------------------------


def test_assigning_to_a_member_moves_received_to_assigned(
    report, supervisor, field_unit, world, notified
):
    _, emails, _phones = notified(lambda: check_assign(supervisor, report, assignee=field_unit))

    report.refresh_from_db()
    assert (report.assignee, report.status) == (field_unit, Report.Status.ASSIGNED)
    step = report.events.get(kind=ReportEvent.Kind.ASSIGNED)
    assert (step.public, step.status, step.institution) == (
        True,
        Report.Status.ASSIGNED,
        world.police,
    )
    entry = audit_of(report, AuditTag.REPORT_ASSIGNEE_CHANGED)
    assert (entry.institution_id, entry.data_dict) == (world.police.pk, {"assignee": "patrulla"})
    assert emails == [EMAIL]


def test_reassigning_changes_no_status_and_tells_nobody(
    report, supervisor, field_unit, institution_admin, notified
):
    check_assign(supervisor, report, assignee=field_unit)

    _, emails, phones = notified(
        lambda: check_assign(supervisor, report, assignee=institution_admin)
    )

    report.refresh_from_db()
    assert (report.assignee, report.status) == (institution_admin, Report.Status.ASSIGNED)
    assert not report.events.filter(kind=ReportEvent.Kind.ASSIGNED).latest("pk").public
    assert (emails, phones) == ([], [])


def test_only_members_of_the_handling_institution_can_be_assigned(
    report, supervisor, dispatcher, world
):
    former = UserFactory(username="exagente")
    MembershipFactory(user=former, institution=world.police, role=Role.FIELD_UNIT, active=False)
    for outsider in (dispatcher, former, UserFactory(username="nadie")):
        with refused("assignee"):
            check_assign(supervisor, report, assignee=outsider)


def test_a_report_in_the_fallback_queue_cannot_be_assigned(catalogue, dispatcher):
    waiting = submit(category_code="ruido", lon=-74.05, lat=4.70, answers={"horario": "dia"})
    assert waiting.institution is None
    with refused(None, status=409):
        check_assign(dispatcher, waiting, assignee=dispatcher)


# --- Rerouting -------------------------------------------------------------------------------


def test_rerouting_sends_the_report_back_to_received_at_the_new_institution(
    report, supervisor, field_unit, catalogue, world, notified
):
    check_assign(supervisor, report, assignee=field_unit)
    with refused("reason"):
        check_reroute(supervisor, report, institution=catalogue.alcaldia, reason=" ")

    _, emails, _phones = notified(
        lambda: check_reroute(
            supervisor, report, institution=catalogue.alcaldia, reason="Es convivencia."
        )
    )

    report.refresh_from_db()
    assert (report.institution, report.assignee, report.status, report.routing_note) == (
        catalogue.alcaldia,
        None,
        Report.Status.RECEIVED,
        "Es convivencia.",
    )
    step = report.events.get(kind=ReportEvent.Kind.ROUTED)
    assert (step.public, step.institution, step.body) == (
        True,
        catalogue.alcaldia,
        "Es convivencia.",
    )
    entry = audit_of(report, AuditTag.REPORT_INSTITUTION_CHANGED)
    assert (entry.institution_id, entry.reason) == (world.police.pk, "Es convivencia.")
    assert entry.data_dict == {"from": world.police.pk, "to": catalogue.alcaldia.pk}
    assert emails == [EMAIL]


def test_rerouting_to_where_it_is_is_a_conflict(report, supervisor, world):
    with refused("institution", status=409):
        check_reroute(supervisor, report, institution=world.police, reason="Por si acaso.")


def test_rerouting_needs_an_active_institution_of_the_same_city(report, supervisor, world):
    elsewhere = InstitutionFactory(city=CityFactory(slug="otra"), slug="policia-otra")
    closed = InstitutionFactory(city=world.city, slug="cerrada", active=False)
    for institution in (elsewhere, closed):
        with refused("institution"):
            check_reroute(supervisor, report, institution=institution, reason="Motivo.")


def test_a_report_leaves_the_fallback_queue_by_rerouting(catalogue, dispatcher, world):
    waiting = submit(category_code="ruido", lon=-74.05, lat=4.70, answers={"horario": "noche"})
    check_reroute(dispatcher, waiting, institution=catalogue.alcaldia, reason="La atiende.")
    entry = audit_of(waiting, AuditTag.REPORT_INSTITUTION_CHANGED)
    # Out of the queue, on behalf of the dispatcher's own institution.
    assert (entry.institution_id, entry.data_dict["from"]) == (world.secretariat.pk, None)


# --- Moderation ------------------------------------------------------------------------------


def test_hiding_and_showing_again(report, supervisor, world, notified):
    with refused("reason"):
        check_hide(supervisor, report, reason="")
    with refused(None, status=409):
        check_show(supervisor, report, reason="No estaba oculto.")

    _, emails, phones = notified(lambda: check_hide(supervisor, report, reason="Datos de un menor"))

    report.refresh_from_db()
    assert (report.is_hidden, report.hidden_reason) == (True, "Datos de un menor")
    assert not report.events.get(kind=ReportEvent.Kind.HIDDEN).public
    entry = audit_of(report, AuditTag.REPORT_HIDDEN)
    assert (entry.institution_id, entry.reason) == (world.police.pk, "Datos de un menor")
    assert (emails, phones) == ([], [])
    with refused(None, status=409):
        check_hide(supervisor, report, reason="Otra vez")

    check_show(supervisor, report, reason="Se editó la foto.")

    report.refresh_from_db()
    assert report.is_hidden is False
    assert not report.events.get(kind=ReportEvent.Kind.SHOWN).public
    entry = audit_of(report, AuditTag.REPORT_SHOWN)
    assert (entry.institution_id, entry.reason) == (world.police.pk, "Se editó la foto.")
    Report.objects.get(pk=report.pk)  # hidden, never deleted


def test_restricting_the_reporter_of_a_named_report(report, supervisor, citizen, world):
    for days in (0, 366, -3):
        with refused("days"):
            check_restrict_reporter(supervisor, report, days=days, reason="Spam")
    with refused("reason"):
        check_restrict_reporter(supervisor, report, days=7, reason="")

    before = timezone.now()
    restriction = check_restrict_reporter(supervisor, report, days=7, reason=" Insultos ")

    assert (restriction.user, restriction.reason, restriction.created_by) == (
        citizen,
        "Insultos",
        supervisor,
    )
    assert before + timedelta(days=7) <= restriction.until <= timezone.now() + timedelta(days=7)
    entry = audit_of(report, AuditTag.REPORT_REPORTER_RESTRICTED)
    assert (entry.institution_id, entry.reason) == (world.police.pk, "Insultos")
    assert entry.data_dict == {"user": "ciudadana", "days": 7}


@pytest.mark.parametrize("days", [1, 365])
def test_a_restriction_lasts_from_one_day_to_a_year(report, supervisor, days):
    assert check_restrict_reporter(supervisor, report, days=days, reason="Spam")


def test_an_anonymous_report_names_nobody_to_restrict(catalogue, citizen, supervisor):
    anonymous = submit(citizen, anonymous=True)
    with refused(None, status=409):
        check_restrict_reporter(supervisor, anonymous, days=7, reason="Spam")
    assert not ReportingRestriction.objects.exists()


def test_opening_a_report_is_audited(report, supervisor, world):
    do_record_report_view(supervisor, report)
    entry = audit_of(report, AuditTag.REPORT_DETAIL_VIEWED)
    assert (entry.institution_id, entry.actor_username) == (world.police.pk, "supervisora")
