"""Who hears about a report, by e-mail (Django's locmem outbox) and SMS (``NullSmsBackend``)."""

import smtplib
import uuid

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.core import mail
from django.core.mail.backends.base import BaseEmailBackend
from django.db import transaction

from convive.accounts.tests.factories import UserFactory
from convive.integrations.sms.console import NullSmsBackend
from convive.reports.actions import (
    SOS_GROUP,
    ReportInput,
    check_add_note,
    check_change_status,
    check_create_report,
    check_reply,
    check_support_report,
)
from convive.reports.models import Report

KENNEDY_POINT = (-74.15, 4.60)


class BrokenSmsBackend:
    """A vendor that is down."""

    def send(self, to, body):
        raise ConnectionError("SMS gateway unreachable")


class RefusingMailBackend(BaseEmailBackend):
    """A mail server that answers every message with an SMTP error."""

    def send_messages(self, email_messages):
        raise smtplib.SMTPServerDisconnected("Connection unexpectedly closed")


class CrashingMailBackend(BaseEmailBackend):
    """A mail library that fails with something other than a network error."""

    def send_messages(self, email_messages):
        raise RuntimeError("API quota exceeded")


def submit(reporter=None, **overrides):
    lon, lat = KENNEDY_POINT
    values = {
        "category_code": "robo",
        "idempotency_key": uuid.uuid4().hex,
        "channel": Report.Channel.WEB,
        "lon": lon,
        "lat": lat,
        "description": "Robo de bicicleta frente al parque.",
    }
    return check_create_report(reporter, ReportInput(**{**values, **overrides}))[0]


@pytest.fixture
def committed(django_capture_on_commit_callbacks):
    """Run ``action`` as a request that commits; return (result, e-mails, SMS)."""

    def run(action):
        mail.outbox.clear()
        NullSmsBackend.sent.clear()
        with django_capture_on_commit_callbacks(execute=True):
            result = action()
        return result, list(mail.outbox), list(NullSmsBackend.sent)

    return run


def recipients(emails, texts):
    return sorted(a for m in emails for a in m.to), sorted(to for to, _body in texts)


# --- On creation -----------------------------------------------------------------------------


def test_the_reporter_hears_that_the_report_arrived(catalogue, citizen, committed, settings):
    settings.SITE_URL = "https://convive.example.org/"
    report, emails, texts = committed(
        lambda: submit(citizen, contact_email="ana@example.org", contact_phone="+573001112233")
    )

    assert recipients(emails, texts) == (["ana@example.org"], ["+573001112233"])
    url = f"https://convive.example.org/report/{report.tracking_code}/"
    (message,) = emails
    assert url in message.body
    assert report.display_code in message.body
    assert f"#{report.pk}" in message.subject
    assert "\n" not in message.subject
    (_to, sms) = texts[0]
    assert url in sms
    assert len(sms) <= 320  # two SMS segments at most


def test_without_a_contact_e_mail_the_account_e_mail_is_used(catalogue, citizen, committed):
    _, emails, texts = committed(lambda: submit(citizen))
    assert recipients(emails, texts) == (["ciudadana@example.org"], [])


def test_a_visitor_without_account_or_contact_is_told_nothing(catalogue, committed):
    _, emails, texts = committed(lambda: submit(None))
    assert (emails, texts) == ([], [])


def test_an_anonymous_reporter_is_never_contacted(catalogue, citizen, committed):
    report, emails, texts = committed(
        lambda: submit(
            citizen, anonymous=True, contact_email="ana@example.org", contact_phone="300"
        )
    )
    assert (emails, texts) == ([], [])
    _, emails, texts = committed(lambda: check_reply_as_police(report))
    assert (emails, texts) == ([], [])


def check_reply_as_police(report):
    officer = UserFactory(username="agente")
    return check_reply(officer, report, body="Estamos revisando las cámaras.")


def test_nothing_is_sent_before_the_commit_nor_after_a_rollback(
    catalogue, citizen, django_capture_on_commit_callbacks
):
    report = submit(citizen, contact_email="ana@example.org")
    mail.outbox.clear()

    def reply_then_fail():
        with transaction.atomic():
            check_reply_as_police(report)
            raise RuntimeError("the request failed after the reply")

    with django_capture_on_commit_callbacks(execute=True):
        with pytest.raises(RuntimeError):
            reply_then_fail()
        assert mail.outbox == []
    assert mail.outbox == []


# --- Later steps -----------------------------------------------------------------------------


@pytest.fixture
def followed(catalogue, citizen):
    """A named report with two supporters: one with an account, one with only a phone."""
    report = submit(citizen, contact_email="ana@example.org", contact_phone="3001")
    neighbour = UserFactory(username="vecino", email="vecino@example.org")
    check_support_report(report, user=neighbour, email="", phone="", idempotency_key="metoo-001")
    check_support_report(report, user=None, email="", phone="3002", idempotency_key="metoo-002")
    check_support_report(
        report, user=None, email="ana@example.org", phone="", idempotency_key="metoo-003"
    )
    return report


def test_public_steps_reach_the_reporter_and_the_supporters_once_each(
    followed, supervisor, committed
):
    for action in (
        lambda: check_reply(supervisor, followed, body="Vamos en camino."),
        lambda: check_change_status(supervisor, followed, status="resolved", text="Recuperada."),
    ):
        _, emails, texts = committed(action)
        assert recipients(emails, texts) == (
            ["ana@example.org", "vecino@example.org"],
            ["3001", "3002"],
        )


def test_internal_notes_reach_nobody(followed, supervisor, committed):
    _, emails, texts = committed(
        lambda: check_add_note(supervisor, followed, body="El denunciante parece ebrio.")
    )
    assert (emails, texts) == ([], [])


def test_supporters_of_an_anonymous_report_still_hear_about_it(catalogue, supervisor, committed):
    report = submit(None, anonymous=True)
    check_support_report(
        report, user=None, email="b@example.org", phone="", idempotency_key="metoo-0001"
    )
    _, emails, texts = committed(lambda: check_reply(supervisor, report, body="Recibido."))
    assert recipients(emails, texts) == (["b@example.org"], [])


# --- Failures outside -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "mail_backend",
    [
        "django.core.mail.backends.locmem.EmailBackend",
        f"{__name__}.RefusingMailBackend",
        f"{__name__}.CrashingMailBackend",
    ],
    ids=["mail-ok", "smtp-error", "mail-crash"],
)
@pytest.mark.parametrize("sms_backend", ["NullSmsBackend", "BrokenSmsBackend"])
def test_a_failing_mail_server_or_sms_gateway_does_not_break_the_report(
    catalogue, citizen, settings, committed, caplog, mail_backend, sms_backend
):
    settings.EMAIL_BACKEND = mail_backend
    settings.SMS_BACKEND = (
        f"convive.integrations.sms.console.{sms_backend}"
        if sms_backend == "NullSmsBackend"
        else f"{__name__}.{sms_backend}"
    )

    report, emails, texts = committed(
        lambda: submit(citizen, contact_email="ana@example.org", contact_phone="3001")
    )

    assert Report.objects.filter(pk=report.pk).exists()
    mail_works = mail_backend.endswith("locmem.EmailBackend")
    assert len(emails) == (1 if mail_works else 0)
    assert texts == ([("3001", texts[0][1])] if sms_backend == "NullSmsBackend" else [])
    if not mail_works or sms_backend != "NullSmsBackend":
        assert f"report {report.pk}" in caplog.text


def test_a_failing_notification_does_not_stop_the_sos_announcement(
    catalogue, citizen, settings, committed
):
    settings.EMAIL_BACKEND = f"{__name__}.CrashingMailBackend"
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(SOS_GROUP, channel)

    report, _, _ = committed(lambda: submit(citizen, category_code="sos", contact_email="a@b.co"))

    message = async_to_sync(layer.receive)(channel)
    assert message["event"]["report_id"] == report.pk
    async_to_sync(layer.group_discard)(SOS_GROUP, channel)


def test_a_private_step_is_never_queued(followed, supervisor, django_capture_on_commit_callbacks):
    from convive.reports.notifications import notify_report_event

    note = check_add_note(supervisor, followed, body="Solo para el equipo.")
    with django_capture_on_commit_callbacks() as queued:
        notify_report_event(followed, note)
    assert queued == []
