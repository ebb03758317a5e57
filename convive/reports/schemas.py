"""API schemas of ``/api/v1/reports``: what the app sends (``*Create``/``*Update``) and gets back.

Public schemas carry only what their reader may see: the citizen's tracking view never names
staff, the nearby list follows each category's publication policy, and nothing public ever
carries a reporter's contact data.
"""

from __future__ import annotations

import math
import re
from datetime import datetime
from typing import Any

from django.core.exceptions import ValidationError
from django.core.validators import validate_email
from django.urls import reverse
from ninja import Field, Schema
from pydantic import field_validator, model_validator

from convive.incidents.queries import incident_status_for_report
from convive.reports.actions import MAX_DESCRIPTION
from convive.reports.models import Category, Question, Report, ReportEvent
from convive.reports.notifications import tracking_url
from convive.reports.queries import list_timeline

PHONE = re.compile(r"^\+?[0-9 ()./-]{3,32}$")


def checked_phone(value: str) -> str:
    """``value`` trimmed, or a validation error when it does not look like a phone number."""
    value = value.strip()
    if value and not PHONE.match(value):
        raise ValueError("not a valid phone number")
    return value


def checked_email(value: str) -> str:
    """``value`` trimmed, or a validation error when it is not an e-mail address."""
    value = value.strip()
    if value:
        try:
            validate_email(value)
        except ValidationError:
            raise ValueError("not a valid e-mail address") from None
    return value


def has_nul(value: Any) -> bool:
    """True when a NUL character is anywhere in ``value`` (no text column can hold one)."""
    if isinstance(value, str):
        return "\x00" in value
    if isinstance(value, dict):
        return any(has_nul(k) or has_nul(v) for k, v in value.items())
    if isinstance(value, list | tuple):
        return any(has_nul(v) for v in value)
    return False


class Input(Schema):
    """What a client sends: refused (422) if any text holds a NUL character."""

    @model_validator(mode="after")
    def no_nul(self) -> Input:
        if has_nul(self.model_dump()):
            raise ValueError("text may not contain the NUL character")
        return self


# --- The catalogue ---------------------------------------------------------------------------


class OptionPublic(Schema):
    key: str
    name: str


class QuestionPublic(Schema):
    code: str
    datatype: str = Field(description="string, number, datetime, text, singlevaluelist, ...")
    label: str
    help: str
    required: bool
    options: list[OptionPublic]

    @classmethod
    def from_question(cls, q: Question) -> QuestionPublic:
        options = [OptionPublic(key=key, name=name) for key, name in q.options()]
        return cls(
            code=q.code,
            datatype=q.datatype,
            label=q.label,
            help=q.help,
            required=q.required,
            options=options,
        )


class CategoryPublic(Schema):
    code: str
    kind: str
    group: str
    name: str
    description: str
    urgent: bool = Field(description="Show the notice first; a report becomes an SOS.")
    notice: str
    questions: list[QuestionPublic]

    @classmethod
    def from_category(cls, c: Category) -> CategoryPublic:
        """In the active language; ``c.questions`` is best prefetched."""
        return cls(
            code=c.code,
            kind=c.kind,
            group=c.group,
            name=c.name,
            description=c.description,
            urgent=c.urgent,
            notice=c.notice,
            questions=[QuestionPublic.from_question(q) for q in c.questions.all()],
        )


class CategoriesPublic(Schema):
    data: list[CategoryPublic]
    count: int


# --- Intake ----------------------------------------------------------------------------------


class ReportCreate(Input):
    """A new report. Place it with ``lat``/``lon`` or an ``address`` (then ``city`` when the site
    serves several). ``idempotency_key`` (8 to 80 characters, e.g. a UUID made when the citizen
    starts writing) makes retries safe: the same key always answers with the same report."""

    category: str = Field(max_length=64)
    lat: float | None = None
    lon: float | None = None
    city: str | None = Field(None, max_length=64, description="City slug.")
    address: str = Field("", max_length=300)
    description: str = Field("", max_length=MAX_DESCRIPTION)
    answers: dict[str, Any] = Field(default_factory=dict)
    anonymous: bool = False
    contact_name: str = Field("", max_length=150)
    contact_email: str = Field("", max_length=254)
    contact_phone: str = Field("", max_length=32)
    idempotency_key: str = Field(min_length=8, max_length=80)
    sos: bool = False

    @field_validator("contact_email")
    @classmethod
    def email_is_valid(cls, value: str) -> str:
        return checked_email(value)

    @field_validator("contact_phone")
    @classmethod
    def phone_is_valid(cls, value: str) -> str:
        return checked_phone(value)

    @field_validator("idempotency_key")
    @classmethod
    def key_is_trimmed(cls, value: str) -> str:
        return value.strip()


class ReportCreated(Schema):
    """The answer to a new report (201) or to a retry of one already made (200).

    ``tracking_code`` is the citizen's key to follow the report: show it, never log it."""

    id: int
    tracking_code: str
    display_code: str
    status: str
    follow_url: str

    @classmethod
    def from_report(cls, report: Report) -> ReportCreated:
        return cls(
            id=report.pk,
            tracking_code=report.tracking_code,
            display_code=report.display_code,
            status=report.status,
            follow_url=tracking_url(report),
        )


# --- The public -------------------------------------------------------------------------------


class NearbyReportPublic(Schema):
    id: int
    category: str
    status: str
    distance_m: int = Field(description="Exact for public categories; to 100 m for coarse ones.")
    supporters_count: int
    created_at: datetime
    description: str | None = Field(None, description="Only for fully public categories.")

    @classmethod
    def from_report(cls, report: Report, distance: float) -> NearbyReportPublic:
        """Under the category's publication policy (``none`` is never listed at all)."""
        full = report.category.publication == Category.Publication.FULL
        return cls(
            id=report.pk,
            category=report.category.code,
            status=report.status,
            distance_m=round(distance) if full else math.ceil(distance / 100) * 100,
            supporters_count=report.supporters_count,
            created_at=report.created_at,
            description=report.description if full else None,
        )


class NearbyReportsPublic(Schema):
    data: list[NearbyReportPublic]
    count: int


class SupporterCreate(Input):
    """ "Me too": the same problem. E-mail or phone to be told about its progress."""

    idempotency_key: str = Field(min_length=8, max_length=80)
    email: str = Field("", max_length=254)
    phone: str = Field("", max_length=32)

    @field_validator("email")
    @classmethod
    def email_is_valid(cls, value: str) -> str:
        return checked_email(value)

    @field_validator("phone")
    @classmethod
    def phone_is_valid(cls, value: str) -> str:
        return checked_phone(value)


class SupporterPublic(Schema):
    report_id: int
    supporters_count: int


# --- The citizen, with the tracking code ------------------------------------------------------


class TimelineEventPublic(Schema):
    """A public step of the report: never who on the staff wrote it, only the institution."""

    kind: str
    kind_label: str
    status: str
    status_label: str
    body: str
    institution: str | None
    created_at: datetime

    @classmethod
    def from_event(cls, event: ReportEvent) -> TimelineEventPublic:
        return cls(
            kind=event.kind,
            kind_label=event.get_kind_display(),
            status=event.status,
            status_label=event.get_status_display() if event.status else "",
            body=event.body,
            institution=event.institution.name if event.institution_id else None,
            created_at=event.created_at,
        )


class IncidentStepPublic(Schema):
    kind: str
    label: str
    at: datetime


class IncidentResponsePublic(Schema):
    """The command centre's response to an SOS or a promoted report: public steps only (no
    unit, no staff, no notes)."""

    status: str
    status_label: str
    is_open: bool
    steps: list[IncidentStepPublic]


class TrackedReportPublic(Schema):
    display_code: str
    category: str
    status: str
    status_label: str
    is_open: bool
    institution: str | None
    created_at: datetime
    updated_at: datetime
    closed_at: datetime | None
    outcome: str
    supporters_count: int
    photos_count: int
    can_rate: bool
    rating: int | None
    timeline: list[TimelineEventPublic]
    incident: IncidentResponsePublic | None = Field(
        None, description="The command centre's response, once the report became an incident."
    )

    @classmethod
    def from_report(cls, report: Report) -> TrackedReportPublic:
        """What the holder of the tracking code sees: no staff names, no internal notes."""
        events = report.events.filter(public=True).select_related("institution")
        response = incident_status_for_report(report)
        incident = None
        if response is not None:
            incident = IncidentResponsePublic(
                status=response.status,
                status_label=response.status_label,
                is_open=response.is_open,
                steps=[
                    IncidentStepPublic(kind=s.kind, label=s.label, at=s.at) for s in response.steps
                ],
            )
        return cls(
            display_code=report.display_code,
            category=report.category.name,
            status=report.status,
            status_label=report.get_status_display(),
            is_open=report.is_open,
            institution=report.institution.name if report.institution_id else None,
            created_at=report.created_at,
            updated_at=report.updated_at,
            closed_at=report.closed_at,
            outcome=report.outcome,
            supporters_count=report.supporters_count,
            photos_count=report.photos.count(),
            can_rate=not report.is_open and report.rating is None,
            rating=report.rating,
            timeline=[
                TimelineEventPublic.from_event(e) for e in events.order_by("created_at", "pk")
            ],
            incident=incident,
        )


class MessageCreate(Input):
    body: str = Field(min_length=1, max_length=MAX_DESCRIPTION)


class RatingCreate(Input):
    rating: int = Field(ge=1, le=5)
    comment: str = Field("", max_length=1000)


class OwnReportPublic(Schema):
    """One of "my reports". ``tracking_code`` only for those one made, not for those one
    supports: the code lets its holder write as the reporter."""

    id: int
    display_code: str | None
    tracking_code: str | None
    is_mine: bool
    category: str
    status: str
    status_label: str
    created_at: datetime
    updated_at: datetime

    @classmethod
    def from_report(cls, report: Report, user: Any) -> OwnReportPublic:
        mine = report.reporter_id == user.pk
        return cls(
            id=report.pk,
            display_code=report.display_code if mine else None,
            tracking_code=report.tracking_code if mine else None,
            is_mine=mine,
            category=report.category.name,
            status=report.status,
            status_label=report.get_status_display(),
            created_at=report.created_at,
            updated_at=report.updated_at,
        )


class OwnReportsPublic(Schema):
    data: list[OwnReportPublic]
    count: int


# --- Staff ------------------------------------------------------------------------------------


class InboxFilters(Input):
    status: str | None = Field(None, description="A status, or `open` for any open one.")
    category: str | None = Field(None, max_length=64, description="Category code.")
    territory: int | None = Field(None, description="Locality (or neighbourhood) id.")
    urgent: bool = False
    unrouted: bool = False
    limit: int = Field(50, ge=1, le=200)
    offset: int = Field(0, ge=0)


class ReportSummaryPublic(Schema):
    id: int
    display_code: str
    category: str
    category_name: str
    status: str
    is_urgent: bool
    is_hidden: bool
    institution: str | None
    locality: str | None
    routing_note: str
    supporters_count: int
    created_at: datetime
    updated_at: datetime

    @staticmethod
    def fields_of(report: Report) -> dict[str, Any]:
        return {
            "id": report.pk,
            "display_code": report.display_code,
            "category": report.category.code,
            "category_name": report.category.name,
            "status": report.status,
            "is_urgent": report.is_urgent,
            "is_hidden": report.is_hidden,
            "institution": report.institution.name if report.institution_id else None,
            "locality": report.locality.name if report.locality_id else None,
            "routing_note": report.routing_note,
            "supporters_count": report.supporters_count,
            "created_at": report.created_at,
            "updated_at": report.updated_at,
        }

    @classmethod
    def from_report(cls, report: Report) -> ReportSummaryPublic:
        return cls(**cls.fields_of(report))


class ReportSummariesPublic(Schema):
    data: list[ReportSummaryPublic]
    count: int


class StaffEventPublic(Schema):
    id: int
    kind: str
    public: bool
    status: str
    body: str
    author: str | None
    institution: str | None
    created_at: datetime

    @classmethod
    def from_event(cls, event: ReportEvent) -> StaffEventPublic:
        author = event.author
        return cls(
            id=event.pk,
            kind=event.kind,
            public=event.public,
            status=event.status,
            body=event.body,
            author=(author.get_full_name() or author.username) if author else None,
            institution=event.institution.name if event.institution_id else None,
            created_at=event.created_at,
        )


class PhotoPublic(Schema):
    id: int
    width: int
    height: int
    url: str


class ReportDetailPublic(ReportSummaryPublic):
    """Everything staff need, including what the reporter chose to give (never when anonymous)."""

    description: str
    answers: dict[str, Any]
    lat: float | None
    lon: float | None
    address: str
    neighbourhood: str | None
    channel: str
    is_anonymous: bool
    reporter: str | None
    contact_name: str
    contact_email: str
    contact_phone: str
    media_url: str
    assignee: str | None
    hidden_reason: str
    outcome: str
    rating: int | None
    rating_comment: str
    photos: list[PhotoPublic]
    timeline: list[StaffEventPublic]

    @classmethod
    def from_report(cls, report: Report) -> ReportDetailPublic:
        photos = [
            PhotoPublic(
                id=p.pk,
                width=p.width,
                height=p.height,
                url=reverse("inbox:photo", args=[report.pk, p.pk]),
            )
            for p in report.photos.all()
        ]
        assignee = report.assignee
        return cls(
            **cls.fields_of(report),
            description=report.description,
            answers=report.answers,
            lat=report.lat,
            lon=report.lon,
            address=report.address,
            neighbourhood=report.neighbourhood.name if report.neighbourhood_id else None,
            channel=report.channel,
            is_anonymous=report.is_anonymous,
            reporter=report.reporter.username if report.reporter_id else None,
            contact_name=report.contact_name,
            contact_email=report.contact_email,
            contact_phone=report.contact_phone,
            media_url=report.media_url,
            assignee=(assignee.get_full_name() or assignee.username) if assignee else None,
            hidden_reason=report.hidden_reason,
            outcome=report.outcome,
            rating=report.rating,
            rating_comment=report.rating_comment,
            photos=photos,
            timeline=[StaffEventPublic.from_event(e) for e in list_timeline(report)],
        )


class StatusUpdate(Input):
    status: str
    text: str = Field("", max_length=MAX_DESCRIPTION)
    expected_status: str | None = Field(
        None, description="The status the client saw; 409 if the report has changed since."
    )


class ReplyCreate(Input):
    body: str = Field(min_length=1, max_length=MAX_DESCRIPTION)


class NoteCreate(Input):
    body: str = Field(min_length=1, max_length=MAX_DESCRIPTION)


class AssigneeUpdate(Input):
    user_id: int


class InstitutionUpdate(Input):
    institution_id: int
    reason: str = Field(max_length=300)


class VisibilityUpdate(Input):
    reason: str = Field("", max_length=300)


class ReporterRestrictionCreate(Input):
    days: int
    reason: str = Field(max_length=300)


class ReporterRestrictionPublic(Schema):
    report_id: int
    until: datetime
    reason: str
