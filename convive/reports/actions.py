"""The only writers of reports: intake (web, app, Open311), the citizen's follow-up, staff work.

Intake is idempotent: a submission carries a key, and the same key always answers with the
report it first created (a retry, a double tap or a reconnection never makes a second one).
Staff actions are audited; every public step is notified to the citizen after commit.
"""

from __future__ import annotations

import copy
import logging
from dataclasses import dataclass, field, replace
from datetime import datetime, timedelta
from typing import Any

from django.conf import settings
from django.core.exceptions import ValidationError
from django.core.files.uploadedfile import UploadedFile
from django.core.validators import validate_email
from django.db import IntegrityError, connection, connections, router, transaction
from django.db.models import Model
from django.utils import timezone, translation
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from convive.accounts.models import User
from convive.core.audit import record_audit_event
from convive.core.errors import ActionError
from convive.core.events import publish_on_commit
from convive.core.geo import check_lon_lat, h3_cell
from convive.core.tags import AuditTag
from convive.incidents.actions import check_create_incident_from_report
from convive.institutions.models import Institution
from convive.reports.answers import check_answers
from convive.reports.cache import Catalogue, get_category
from convive.reports.events import SosReceived
from convive.reports.models import (
    ApiKey,
    Category,
    Report,
    ReportEvent,
    ReportingRestriction,
    ReportPhoto,
    Supporter,
)
from convive.reports.notifications import notify_report_event
from convive.reports.photos import check_photos
from convive.reports.routing import (
    BOUNDARY_METRES,
    Route,
    city_near_index,
    locality_of,
    route_report,
)
from convive.territories.models import City, Layer, Territory
from convive.territories.queries import CityIndex, locate_anywhere

MAX_DESCRIPTION = 4000
MAX_EMAIL = 254  # Report.contact_email and Supporter.contact_email
SOS_CLOSED_TEXT = gettext_lazy(
    "The command centre closed its response to your alert. If you need help again, call the "
    "emergency number or send a new alert."
)
SOS_REOPENED_TEXT = gettext_lazy(
    "The command centre reopened its response to your alert: it is being handled again."
)
SOS_GROUP = "sos"  # announced here after commit, for any outside listener (a CAD bridge)

logger = logging.getLogger(__name__)


@dataclass
class ReportInput:
    """A submission, whatever the channel. ``city`` is needed only when no point is given."""

    category_code: str
    idempotency_key: str
    channel: str
    lon: float | None = None
    lat: float | None = None
    address: str = ""
    description: str = ""
    answers: dict[str, Any] = field(default_factory=dict)
    anonymous: bool = False
    contact_name: str = ""
    contact_email: str = ""
    contact_phone: str = ""
    city: City | None = None
    media_url: str = ""
    sos: bool = False


def find_existing(idempotency_key: str) -> Report | None:
    """The report this idempotency key made, if any.

    Every submission asks, and almost always in vain, so the question is a bare query: the ORM's
    would cost several times more to build than to run. Only a hit reads the report."""
    with connection.cursor() as cursor:
        cursor.execute(_KEY_SQL, [idempotency_key])
        row = cursor.fetchone()
    if row is None:
        return None
    return next(iter(Report.objects.filter(pk=row[0]).order_by()[:1]), None)


_KEY_SQL = "SELECT {pk} FROM {table} WHERE {key} = %s".format(  # noqa: S608 (names only)
    pk=Report._meta.pk.column,
    table=Report._meta.db_table,
    key=Report._meta.get_field("idempotency_key").column,
)


def insert_row(obj: Model, *, unless_taken: str | None = None) -> bool:
    """INSERT ``obj`` (a new row) in one statement and set its ``pk``; True when written.

    ``unless_taken`` names a unique field: when a row already holds ``obj``'s value there, nothing
    is written and the answer is False (``ON CONFLICT (...) DO NOTHING``, PostgreSQL and SQLite
    3.35+). A concurrent transaction inserting the same value makes this one wait for its end,
    so of two twins exactly one writes. This replaces ``create()`` inside a savepoint (three
    statements, and the ORM's cost of building them) on the intake's path. Unlike ``save()``, it
    sends no ``pre_save``/``post_save``: nothing listens for reports or their events (a test in
    ``test_cache.py`` holds this).
    """
    meta = obj._meta
    db = connections[router.db_for_write(type(obj))]
    fields = [f for f in meta.concrete_fields if not f.primary_key]
    values = [f.get_db_prep_save(f.pre_save(obj, add=True), db) for f in fields]
    quote = db.ops.quote_name
    columns = ", ".join(quote(f.column) for f in fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql = f"INSERT INTO {quote(meta.db_table)} ({columns}) VALUES ({placeholders})"  # noqa: S608
    if unless_taken is not None:
        sql += f" ON CONFLICT ({quote(meta.get_field(unless_taken).column)}) DO NOTHING"
    sql += f" RETURNING {quote(meta.pk.column)}"
    with db.cursor() as cursor:
        cursor.execute(sql, values)
        row = cursor.fetchone()
    if row is None:
        return False
    obj.pk = row[0]
    obj._state.adding = False
    obj._state.db = db.alias
    return True


def _check_key(key: str) -> str:
    key = (key or "").strip()
    if not 8 <= len(key) <= 80 or not key.isascii() or not key.isprintable():
        raise ActionError(
            _("Every submission needs an idempotency key of 8 to 80 characters."),
            field="idempotency_key",
        )
    return key


def _check_category(code: str, *, sos: bool) -> tuple[Catalogue, Category]:
    """The active category (from the catalogue copy, ``convive.reports.cache``) and the copy."""
    catalogue, category = get_category(code)
    if category is None:
        raise ActionError(_("Unknown category “%(code)s”.") % {"code": code}, field="category")
    if sos and not category.urgent:
        raise ActionError(_("An SOS needs an urgent category."), field="category")
    return catalogue, category


def _check_place(data: ReportInput) -> tuple[City, list[Territory], CityIndex | None]:
    """The city, the territories at the point, and the city's index (None without a point)."""
    if data.lon is None and data.lat is None:
        if not data.address.strip():
            raise ActionError(
                _("Say where it happens: a point on the map or an address."), field="address"
            )
        cities = list(City.objects.order_by("pk")[:2])
        city = data.city or (cities[0] if len(cities) == 1 else None)
        if city is None:
            raise ActionError(_("Choose the city."), field="city")
        return city, [], None
    if data.lon is None or data.lat is None:
        missing = "lat" if data.lat is None else "lon"
        raise ActionError(_("A point needs both latitude and longitude."), field=missing)
    lon, lat = check_lon_lat(data.lon, data.lat)
    # A GPS fix a few metres off a shared border can fall in the sliver between two territories:
    # it belongs to the city whose territories are that close (routing then sends it to the
    # fallback queue with the boundary note), not to "outside every city".
    index, territories = locate_anywhere(lon, lat) or (
        city_near_index(lon, lat, metres=BOUNDARY_METRES),
        [],  # in no territory of any city
    )
    if index is None or index.city is None:
        raise ActionError(_("The point is outside every city served here."), field="lat")
    city = copy.copy(index.city)
    if data.city is not None and data.city != city:
        raise ActionError(_("The point is not in %(city)s.") % {"city": data.city}, field="lat")
    return city, territories, index


def _check_identity(data: ReportInput, reporter: User | None) -> None:
    # A restricted account stays restricted when it ticks "anonymous": the restriction is
    # checked against who is submitting, and anonymity only decides what is stored.
    if reporter is not None:
        restriction = ReportingRestriction.objects.filter(
            user=reporter, until__gt=timezone.now()
        ).first()
        if restriction is not None:
            raise ActionError(
                _("This account may not report until %(date)s.")
                % {"date": timezone.localtime(restriction.until).strftime("%Y-%m-%d %H:%M")},
                status=429,
            )
    if len(data.description) > MAX_DESCRIPTION:
        raise ActionError(_("The description is limited to 4,000 characters."), field="description")
    if not data.anonymous:  # an anonymous report drops the contact anyway
        _check_email(data.contact_email, field="contact_email")


def _check_email(email: str, *, field: str) -> None:
    """An address we will write to must be one: a bad one would fail (or inject) at send time."""
    email = email.strip()
    if not email:
        return
    try:
        validate_email(email)
    except ValidationError as exc:
        raise ActionError(_("Enter a valid e-mail address."), field=field) from exc
    if len(email) > MAX_EMAIL:  # the column's length: PostgreSQL would refuse the row
        raise ActionError(_("Enter a valid e-mail address."), field=field)


def check_create_report(
    reporter: User | None,
    data: ReportInput,
    *,
    photos: list[UploadedFile] | None = None,
    api_key: ApiKey | None = None,
    key_checked: bool = False,
) -> tuple[Report, bool]:
    """Create the report, or return the one this idempotency key already made.

    Returns ``(report, created)``. The caller holds the transaction. Everything is checked before
    anything is written, so a refused submission leaves nothing behind. ``reporter`` may be
    ``request.user`` as is: a logged-out visitor counts as nobody. ``key_checked``: the caller
    has just looked the key up (``find_existing``) and found nothing, so it is not asked again;
    a twin that commits in between still loses the race for the unique key, below.
    """
    if reporter is not None and not reporter.is_authenticated:
        reporter = None
    key = _check_key(data.idempotency_key)
    existing = None if key_checked else find_existing(key)
    if existing is not None:
        return existing, False
    catalogue, category = _check_category(data.category_code, sos=data.sos)
    city, territories, index = _check_place(data)
    if data.lon is not None:  # checked: store numbers, whatever type the caller passed
        data = replace(data, lon=float(data.lon), lat=float(data.lat))
    answers = check_answers(category, data.answers, questions=catalogue.questions_of(category))
    _check_identity(data, reporter)
    clean_photos = check_photos(photos or [])
    rules = catalogue.rules_for(city, category)
    route = route_report(
        city, category, territories, lon=data.lon, lat=data.lat, index=index, rules=rules
    )
    report = do_create_report(
        reporter,
        data,
        key=key,
        category=category,
        city=city,
        territories=territories,
        answers=answers,
        photos=clean_photos,
        api_key=api_key,
        route=route,
    )
    if report is None:  # a concurrent twin took the key first: its report is the answer
        existing = find_existing(key)
        if existing is None:  # cannot happen under READ COMMITTED (or SQLite's one writer)
            raise IntegrityError(f"idempotency key {key!r} is taken by an invisible report")
        return existing, False
    return report, True


def do_create_report(
    reporter: User | None,
    data: ReportInput,
    *,
    key: str,
    category: Category,
    city: City,
    territories: list[Territory],
    answers: dict[str, Any],
    photos: list,
    api_key: ApiKey | None,
    route: Route,
) -> Report | None:
    """Write the report, its photos and its first timeline step; None (and nothing written) when
    another report holds the idempotency key by now."""
    anonymous = data.anonymous
    urgent = category.urgent
    neighbourhood = next((t for t in territories if t.layer.kind == Layer.Kind.NEIGHBOURHOOD), None)
    report = Report(
        idempotency_key=key,
        city=city,
        category=category,
        status=Report.Status.SOS if urgent else Report.Status.RECEIVED,
        is_urgent=urgent,
        channel=data.channel,
        description=data.description.strip(),
        answers=answers,
        lon=data.lon,
        lat=data.lat,
        h3_cell=h3_cell(data.lon, data.lat) if data.lon is not None else "",
        address=data.address.strip()[:300],
        locality=locality_of(territories),
        neighbourhood=neighbourhood,
        institution=route.institution,
        routing_note=route.note,
        is_anonymous=anonymous,
        reporter=None if anonymous else reporter,
        contact_name="" if anonymous else data.contact_name.strip()[:150],
        contact_email="" if anonymous else data.contact_email.strip(),
        contact_phone="" if anonymous else data.contact_phone.strip()[:32],
        api_key=api_key,
        media_url=data.media_url,
    )
    if not insert_row(report, unless_taken="idempotency_key"):
        return None
    for photo in photos:
        ReportPhoto.objects.create(report=report, image=photo, size_bytes=photo.size)
    event = ReportEvent(
        report=report,
        kind=ReportEvent.Kind.CREATED,
        status=report.status,
        institution=route.institution,
    )
    insert_row(event)
    if urgent:
        _open_incident(report)
        publish_on_commit(SOS_GROUP, SosReceived.from_report(report))
    notify_report_event(report, event)
    return report


def _open_incident(report: Report) -> None:
    """An SOS becomes a P1 command-centre incident in the same transaction, so the consoles
    show it as soon as it is committed and the citizen follows the incident on the report's page.

    If the incident cannot be made (the incident catalogue lacks the SOS type: run
    ``convive install_incident_types``), the SOS is kept all the same: it is in the inbox with
    its own status, and the failure is logged as an error for the operators.
    """
    try:
        with transaction.atomic():  # a savepoint: a failure here must not lose the report
            check_create_incident_from_report(None, report)
    except ActionError as exc:
        logger.error("SOS report %s did not become an incident: %s", report.pk, exc.message)


def do_close_sos_with_incident(
    actor: User | None, report: Report, *, incident_id: int, at: datetime
) -> None:
    """The command centre closed the incident an SOS became: the SOS closes too, with a public
    step the citizen is told of (in the site's language, as every stored text for the citizen;
    never the incident's own outcome, written for staff). ``at`` is the incident's own closing
    time, which is how a reopening finds the alerts that closed with it. The caller holds the
    row lock."""
    _sos_follows_incident(actor, report, incident_id=incident_id, to=Report.Status.CLOSED, at=at)


def do_reopen_sos_with_incident(actor: User | None, report: Report, *, incident_id: int) -> None:
    """The incident an SOS closed with was reopened: the alert is an open SOS again, and its
    citizen is told so (a rating already given stays: it judged the first response). The caller
    holds the row lock."""
    _sos_follows_incident(actor, report, incident_id=incident_id, to=Report.Status.SOS, at=None)


def _sos_follows_incident(
    actor: User | None, report: Report, *, incident_id: int, to: str, at: datetime | None
) -> None:
    closing = to == Report.Status.CLOSED
    with translation.override(settings.LANGUAGE_CODE):
        text = str(SOS_CLOSED_TEXT if closing else SOS_REOPENED_TEXT)
    previous = report.status
    report.status = to
    report.closed_at = at
    report.outcome = text if closing else ""
    report.save(update_fields=["status", "closed_at", "outcome"])
    event = ReportEvent.objects.create(
        report=report,
        kind=ReportEvent.Kind.STATUS,
        public=True,
        author=actor if actor is not None and actor.is_authenticated else None,
        body=text,
        status=to,
    )
    _touch(report)
    notify_report_event(report, event)
    record_audit_event(
        actor,
        AuditTag.REPORT_STATUS_CHANGED,
        subject=report,
        institution=report.institution,
        reason=text,
        data={"from": previous, "to": to, "incident": incident_id},
    )


# --- The citizen, after reporting -------------------------------------------------------------


def check_add_citizen_message(report: Report, *, body: str, author: User | None) -> ReportEvent:
    """The citizen adds information or answers the institution (caller holds the row lock)."""
    body = body.strip()
    if not body:
        raise ActionError(_("Write a message."), field="body")
    if len(body) > MAX_DESCRIPTION:
        raise ActionError(_("Messages are limited to 4,000 characters."), field="body")
    if report.is_hidden:
        raise ActionError(_("This report can no longer receive messages."), status=409)
    logged_in = author is not None and author.is_authenticated
    event = ReportEvent.objects.create(
        report=report,
        kind=ReportEvent.Kind.CITIZEN,
        body=body,
        # Whoever holds the code of an anonymous report writes anonymously: naming the account
        # here would tie the report to a person after all.
        author=author if logged_in and not report.is_anonymous else None,
    )
    _touch(report)
    return event


def check_rate_report(report: Report, *, rating: int, comment: str) -> Report:
    if report.is_open:
        raise ActionError(_("You can rate the answer once the report is closed."), status=409)
    if report.rating is not None:
        raise ActionError(_("This answer has already been rated."), status=409)
    if isinstance(rating, bool) or not isinstance(rating, int) or not 1 <= rating <= 5:
        raise ActionError(_("The rating goes from 1 to 5."), field="rating")
    report.rating = rating
    report.rating_comment = comment.strip()[:1000]
    report.save(update_fields=["rating", "rating_comment"])
    ReportEvent.objects.create(
        report=report,
        kind=ReportEvent.Kind.RATED,
        public=False,
        body=f"{rating}/5 {report.rating_comment}".strip(),
    )
    return report


def check_support_report(
    report: Report, *, user: User | None, email: str, phone: str, idempotency_key: str
) -> tuple[Supporter, bool]:
    """ "Me too": one more person with the same problem; they get its updates.

    The caller holds the row lock (``access_*(..., for_update=True)``): two taps of one person
    then meet one after the other, and the second finds the first by its key.
    """
    key = _check_key(idempotency_key)
    existing = Supporter.objects.filter(idempotency_key=key).first()
    if existing is not None:
        return existing, False
    if not report.is_open or report.is_hidden:
        raise ActionError(
            _("This report is closed; make a new one if the problem is back."), status=409
        )
    _check_email(email, field="email")
    account = user if user is not None and user.is_authenticated else None
    if account is not None and (
        report.reporter_id == account.pk or report.supporters.filter(user=account).exists()
    ):
        raise ActionError(_("You already follow this report."), status=409)
    supporter = Supporter.objects.create(
        report=report,
        user=account,
        contact_email=email.strip(),
        contact_phone=phone.strip()[:32],  # as at intake; longer is refused by PostgreSQL
        idempotency_key=key,
    )
    report.supporters_count = report.supporters.count()
    report.save(update_fields=["supporters_count"])
    ReportEvent.objects.create(report=report, kind=ReportEvent.Kind.SUPPORTED)
    return supporter, True


# --- Staff ----------------------------------------------------------------------------------


def _touch(report: Report) -> None:
    report.updated_at = timezone.now()
    report.save(update_fields=["updated_at"])


def _staff_event(
    actor: User,
    report: Report,
    kind: str,
    *,
    public: bool,
    body: str = "",
    status: str = "",
    institution: Institution | None = None,
) -> ReportEvent:
    event = ReportEvent.objects.create(
        report=report,
        kind=kind,
        public=public,
        author=actor,
        body=body,
        status=status,
        institution=institution,
    )
    _touch(report)
    if public:
        notify_report_event(report, event)
    return event


def do_record_report_view(actor: User, report: Report) -> None:
    """Staff opened a report: who looked at what, as for every sensitive record."""
    record_audit_event(
        actor, AuditTag.REPORT_DETAIL_VIEWED, subject=report, institution=report.institution
    )


# Lazy: built at import time, translated when raised (in the language of the request).
NEEDS_TEXT = {
    Report.Status.RESOLVED: gettext_lazy("Say how it was resolved: the citizen reads it."),
    Report.Status.CLOSED: gettext_lazy("Say why it is closed: the citizen reads it."),
    Report.Status.REJECTED: gettext_lazy("Say why it is rejected: the citizen reads it."),
}


def check_change_status(actor: User, report: Report, *, status: str, text: str) -> Report:
    """Caller holds the row lock (``access_report_by_id(..., for_update=True)``)."""
    if status not in Report.Status.values or status == Report.Status.SOS:
        raise ActionError(_("Choose a valid status."), field="status")
    if status == report.status:
        raise ActionError(_("The report already has this status."), status=409, field="status")
    text = text.strip()
    if status in NEEDS_TEXT and not text:
        raise ActionError(NEEDS_TEXT[status], field="text")
    previous = report.status
    report.status = status
    report.closed_at = timezone.now() if status in Report.CLOSED_STATUSES else None
    if status in Report.CLOSED_STATUSES:
        report.outcome = text
    report.save(update_fields=["status", "closed_at", "outcome"])
    _staff_event(actor, report, ReportEvent.Kind.STATUS, public=True, body=text, status=status)
    record_audit_event(
        actor,
        AuditTag.REPORT_STATUS_CHANGED,
        subject=report,
        institution=report.institution,
        reason=text,
        data={"from": previous, "to": status},
    )
    return report


def check_reply(actor: User, report: Report, *, body: str) -> ReportEvent:
    body = body.strip()
    if not body:
        raise ActionError(_("Write the reply."), field="body")
    event = _staff_event(
        actor,
        report,
        ReportEvent.Kind.REPLY,
        public=True,
        body=body,
        institution=report.institution,
    )
    record_audit_event(
        actor,
        AuditTag.REPORT_REPLY_SENT,
        subject=report,
        institution=report.institution,
        data={"event": event.pk},
    )
    return event


def check_add_note(actor: User, report: Report, *, body: str) -> ReportEvent:
    body = body.strip()
    if not body:
        raise ActionError(_("Write the note."), field="body")
    event = _staff_event(
        actor,
        report,
        ReportEvent.Kind.NOTE,
        public=False,
        body=body,
        institution=report.institution,
    )
    record_audit_event(
        actor,
        AuditTag.REPORT_NOTE_ADDED,
        subject=report,
        institution=report.institution,
        data={"event": event.pk},
    )
    return event


def check_assign(actor: User, report: Report, *, assignee: User) -> Report:
    """Give the report to a person of the institution that handles it."""
    if report.institution_id is None:
        raise ActionError(_("Send the report to an institution first."), status=409)
    works_there = assignee.memberships.filter(active=True, institution=report.institution).exists()
    if not works_there:
        raise ActionError(
            _("That person does not work for %(institution)s.")
            % {"institution": report.institution},
            field="assignee",
        )
    report.assignee = assignee
    fields = ["assignee"]
    if report.status == Report.Status.RECEIVED:
        report.status = Report.Status.ASSIGNED
        fields.append("status")
    report.save(update_fields=fields)
    _staff_event(
        actor,
        report,
        ReportEvent.Kind.ASSIGNED,
        public="status" in fields,
        status=report.status,
        institution=report.institution,
    )
    record_audit_event(
        actor,
        AuditTag.REPORT_ASSIGNEE_CHANGED,
        subject=report,
        institution=report.institution,
        data={"assignee": assignee.username},
    )
    return report


def check_reroute(actor: User, report: Report, *, institution: Institution, reason: str) -> Report:
    """Send the report to another institution (or out of the fallback queue), with a reason."""
    reason = reason.strip()  # the same words in the timeline, the routing note and the audit
    if not reason:
        raise ActionError(_("Say why it goes to another institution."), field="reason")
    if institution.pk == report.institution_id:
        raise ActionError(_("The report is already there."), status=409, field="institution")
    if institution.city_id != report.city_id or not institution.active:
        raise ActionError(_("Choose an active institution of the same city."), field="institution")
    previous = report.institution
    report.institution = institution
    report.assignee = None
    report.routing_note = reason.strip()[:300]
    if report.status == Report.Status.ASSIGNED:
        report.status = Report.Status.RECEIVED
    report.save(update_fields=["institution", "assignee", "routing_note", "status"])
    _staff_event(
        actor,
        report,
        ReportEvent.Kind.ROUTED,
        public=True,
        body=reason.strip(),
        institution=institution,
    )
    record_audit_event(
        actor,
        AuditTag.REPORT_INSTITUTION_CHANGED,
        subject=report,
        institution=previous,
        reason=reason,
        data={"from": previous.pk if previous else None, "to": institution.pk},
    )
    return report


def check_hide(actor: User, report: Report, *, reason: str) -> Report:
    """Moderation: the report leaves every public list, but is kept (never deleted)."""
    reason = reason.strip()
    if report.is_hidden:
        raise ActionError(_("The report is already hidden."), status=409)
    if not reason.strip():
        raise ActionError(_("Say why the report is hidden."), field="reason")
    report.is_hidden = True
    report.hidden_reason = reason.strip()[:300]
    report.save(update_fields=["is_hidden", "hidden_reason"])
    _staff_event(actor, report, ReportEvent.Kind.HIDDEN, public=False, body=reason.strip())
    record_audit_event(
        actor, AuditTag.REPORT_HIDDEN, subject=report, institution=report.institution, reason=reason
    )
    return report


def check_show(actor: User, report: Report, *, reason: str) -> Report:
    reason = reason.strip()
    if not report.is_hidden:
        raise ActionError(_("The report is not hidden."), status=409)
    report.is_hidden = False
    report.save(update_fields=["is_hidden"])
    _staff_event(actor, report, ReportEvent.Kind.SHOWN, public=False, body=reason.strip())
    record_audit_event(
        actor, AuditTag.REPORT_SHOWN, subject=report, institution=report.institution, reason=reason
    )
    return report


def check_restrict_reporter(
    actor: User, report: Report, *, days: int, reason: str
) -> ReportingRestriction:
    """Stop an abusive account from reporting for ``days``. Anonymous reports name nobody."""
    reason = reason.strip()
    if report.reporter_id is None:
        raise ActionError(
            _("Anonymous reports cannot be traced to anyone; the rate limits apply to them."),
            status=409,
        )
    if not 1 <= days <= 365:
        raise ActionError(_("Between 1 and 365 days."), field="days")
    if not reason.strip():
        raise ActionError(_("Say why the account is restricted."), field="reason")
    restriction = ReportingRestriction.objects.create(
        user=report.reporter,
        until=timezone.now() + timedelta(days=days),
        reason=reason.strip()[:300],
        created_by=actor,
    )
    record_audit_event(
        actor,
        AuditTag.REPORT_REPORTER_RESTRICTED,
        subject=report,
        institution=report.institution,
        reason=reason,
        data={"user": report.reporter.username, "days": days},
    )
    return restriction
