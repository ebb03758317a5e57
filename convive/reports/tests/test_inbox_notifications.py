"""From the inbox to the citizen's phone and mailbox: what staff do is told to the people who
follow the report, after the change commits (e-mail: Django's locmem outbox; SMS: the Null
backend; through Twilio to a recording server in ``test_sms.py``)."""

from __future__ import annotations

import pytest
from django.core import mail
from django.db import transaction
from django.urls import reverse

from conftest import login
from convive.accounts.tests.factories import UserFactory
from convive.integrations.sms.console import NullSmsBackend
from convive.reports.actions import check_support_report
from convive.reports.models import Report
from convive.reports.tests.test_inbox import make_report


@pytest.fixture
def followed(catalogue, citizen, django_capture_on_commit_callbacks) -> Report:
    """A robbery reported with an e-mail and a phone, and one neighbour who said "me too"."""
    with django_capture_on_commit_callbacks(execute=True):
        report = make_report(
            "robo",
            reporter=citizen,
            contact_email="lucia@example.org",
            contact_phone="+573001110000",
        )
    neighbour = UserFactory(username="vecino", email="vecino@example.org")
    with transaction.atomic():
        check_support_report(
            report, user=neighbour, email="", phone="+573002220000", idempotency_key="metoo-00001"
        )
    return report


@pytest.fixture
def staff_does(client, django_capture_on_commit_callbacks):
    """``staff_does(name, report, data)``: post an inbox form and run what waits for commit.

    The outbox and the SMS list are emptied first: afterwards they hold what this step sent.
    """

    def post(name: str, report: Report, data: dict) -> None:
        mail.outbox.clear()
        NullSmsBackend.sent.clear()
        fields = {f"{name}-{key}": value for key, value in data.items()}
        with django_capture_on_commit_callbacks(execute=True):
            response = client.post(reverse(f"inbox:{name}", args=[report.pk]), fields)
        assert response.status_code == 302

    return post


def test_the_reporter_hears_that_the_report_was_received(followed):
    [message] = mail.outbox
    assert message.to == ["lucia@example.org"]
    assert followed.display_code in message.body
    assert [to for to, _body in NullSmsBackend.sent] == ["+573001110000"]


def test_reporter_and_supporters_hear_of_status_changes_and_replies(
    client, followed, supervisor, staff_does
):
    login(client, supervisor)
    outcome = "Se recuperó la bicicleta."
    staff_does("status", followed, {"status": "resolved", "text": outcome})
    assert sorted(m.to[0] for m in mail.outbox) == ["lucia@example.org", "vecino@example.org"]
    assert all(outcome in m.body for m in mail.outbox)
    assert sorted(to for to, _body in NullSmsBackend.sent) == ["+573001110000", "+573002220000"]
    assert all(f"#{followed.pk}" in body for _to, body in NullSmsBackend.sent)

    staff_does("reply", followed, {"body": "Gracias por avisar."})
    assert len(mail.outbox) == 2
    assert all("Gracias por avisar." in m.body for m in mail.outbox)
    assert len(NullSmsBackend.sent) == 2


def test_internal_notes_never_leave_the_institution(client, followed, supervisor, staff_does):
    login(client, supervisor)
    staff_does("note", followed, {"body": "Sospechoso conocido."})
    assert mail.outbox == []
    assert NullSmsBackend.sent == []


def test_anonymous_reporters_are_never_contacted(
    client, catalogue, supervisor, staff_does, django_capture_on_commit_callbacks
):
    with django_capture_on_commit_callbacks(execute=True):
        report = make_report(
            "robo", anonymous=True, contact_email="ana@example.org", contact_phone="3001"
        )
    assert mail.outbox == []
    login(client, supervisor)
    staff_does("reply", report, {"body": "Recibido."})
    staff_does("status", report, {"status": "closed", "text": "Sin datos para seguir."})
    assert mail.outbox == []
    assert NullSmsBackend.sent == []
