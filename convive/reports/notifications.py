"""Tell citizens what happened to their report: e-mail and SMS, after the change is committed.

Who is told: the reporter (the e-mail and phone they chose to give, or their account's e-mail)
and the people who said "me too". Anonymous reporters gave nothing, so they follow the report
with its tracking code. Only public steps are sent; internal notes never are.
"""

from __future__ import annotations

import logging

from django.conf import settings
from django.core.mail import send_mail
from django.db import transaction
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils import translation

from convive.integrations.sms import get_sms_backend
from convive.reports.models import Report, ReportEvent

logger = logging.getLogger("convive.reports")


def recipients(report: Report) -> tuple[set[str], set[str]]:
    """(e-mails, phones) of everyone who follows ``report``."""
    emails, phones = set(), set()
    if not report.is_anonymous:
        if report.contact_email:
            emails.add(report.contact_email)
        elif report.reporter_id and report.reporter.email:
            emails.add(report.reporter.email)
        if report.contact_phone:
            phones.add(report.contact_phone)
    for supporter in report.supporters.select_related("user"):
        email = supporter.contact_email or (supporter.user.email if supporter.user_id else "")
        if email:
            emails.add(email)
        if supporter.contact_phone:
            phones.add(supporter.contact_phone)
    return emails, phones


def tracking_url(report: Report) -> str:
    return settings.SITE_URL.rstrip("/") + reverse("reports:follow", args=[report.tracking_code])


def _send(report_id: int, event_id: int) -> None:
    report = Report.objects.select_related("category", "institution", "reporter").get(pk=report_id)
    event = ReportEvent.objects.get(pk=event_id)
    emails, phones = recipients(report)
    if not emails and not phones:
        return
    with translation.override(settings.LANGUAGE_CODE):
        context = {"report": report, "event": event, "url": tracking_url(report)}
        subject = render_to_string("reports/email/update_subject.txt", context).strip()
        body = render_to_string("reports/email/update.txt", context)
        sms = render_to_string("reports/sms/update.txt", context).strip()
    for email in sorted(emails):
        try:
            send_mail(subject, body, settings.DEFAULT_FROM_EMAIL, [email])
        except Exception:  # a mail server or provider API down: log and go on
            logger.exception("could not e-mail report %s", report.pk)
    backend = get_sms_backend()
    for phone in sorted(phones):
        try:
            backend.send(phone, sms)
        except Exception:  # any vendor failure is logged; the report stands
            logger.exception("could not send an SMS for report %s", report.pk)


def notify_report_event(report: Report, event: ReportEvent) -> None:
    """Queue the notification of a public step; it is sent only if the transaction commits."""
    if not event.public:
        return
    if event.kind == ReportEvent.Kind.CREATED and report.is_anonymous:
        return  # nobody to tell: no contact was kept, and a new report has no supporters yet
    # Robust: whatever fails while notifying is logged, and neither reaches the committed request
    # nor stops the callbacks queued after this one (an SOS announcement, other notifications).
    transaction.on_commit(lambda: _send(report.pk, event.pk), robust=True)
