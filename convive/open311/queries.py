"""Reads behind the Open311 endpoints: the catalogue, public requests, the discovery changeset."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import datetime

from django.db.models import Count, Max, OuterRef, Q, QuerySet, Subquery
from django.utils.translation import gettext as _

from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.open311.errors import Open311Error
from convive.reports.access import public_reports
from convive.reports.models import Category, Question, Report, ReportEvent
from convive.territories.models import City

CATALOGUE_SUBJECTS = ("reports.category", "reports.question")
CATALOGUE_TAGS = (
    AuditTag.ADMIN_OBJECT_ADDED,
    AuditTag.ADMIN_OBJECT_CHANGED,
    AuditTag.ADMIN_OBJECT_DELETED,
)


def get_jurisdiction(jurisdiction_id: str) -> City | None:
    """The city named by ``jurisdiction_id`` (its slug).

    Optional while one city is served (that city, or None when there is none yet); required
    (400) once there are several; unknown → 404.
    """
    jurisdiction_id = (jurisdiction_id or "").strip()
    if jurisdiction_id:
        city = City.objects.filter(slug=jurisdiction_id).first()
        if city is None:
            raise Open311Error(
                404, _("jurisdiction_id “%(id)s” was not found.") % {"id": jurisdiction_id}
            )
        return city
    cities = list(City.objects.order_by("pk")[:2])
    if len(cities) > 1:
        raise Open311Error(
            400, _("jurisdiction_id was not provided: this endpoint serves several cities.")
        )
    return cities[0] if cities else None


def list_services() -> QuerySet[Category]:
    """The active catalogue, each category with ``question_count``."""
    return Category.objects.filter(active=True).annotate(question_count=Count("questions"))


def get_service(service_code: str) -> Category:
    category = Category.objects.filter(code=service_code, active=True).first()
    if category is None:
        raise Open311Error(
            404, _("service_code “%(code)s” was not found.") % {"code": service_code}
        )
    return category


def list_questions(category: Category) -> list[Question]:
    return list(category.questions.order_by("order", "pk"))


def _status_notes() -> Subquery:
    """The text of the last public status change: what the institution told the citizen."""
    events = ReportEvent.objects.filter(
        report=OuterRef("pk"), kind=ReportEvent.Kind.STATUS, public=True
    ).order_by("-created_at", "-pk")
    return Subquery(events.values("body")[:1])


@dataclass
class RequestFilters:
    """The filters of GET requests, already checked (``views.parse_request_filters``)."""

    ids: list[int] = field(default_factory=list)
    service_codes: list[str] = field(default_factory=list)
    start: datetime | None = None
    end: datetime | None = None
    statuses: list[str] = field(default_factory=list)


def list_service_requests(city: City | None, filters: RequestFilters) -> QuerySet[Report]:
    """Public requests, newest first. ``ids``, when given, overrides the other filters."""
    reports = public_reports().annotate(status_notes=_status_notes())
    if city is not None:
        reports = reports.filter(city=city)
    if filters.ids:
        return reports.filter(pk__in=filters.ids).order_by("-created_at", "-pk")
    if filters.service_codes:
        reports = reports.filter(category__code__in=filters.service_codes)
    if filters.start is not None:
        reports = reports.filter(created_at__gte=filters.start)
    if filters.end is not None:
        reports = reports.filter(created_at__lte=filters.end)
    if filters.statuses and len(set(filters.statuses)) == 1:
        is_open = Q(status__in=Report.OPEN_STATUSES)
        reports = reports.filter(is_open if filters.statuses[0] == "open" else ~is_open)
    return reports.order_by("-created_at", "-pk")


def get_service_request(city: City | None, service_request_id: str) -> Report:
    """One public request of the jurisdiction; 404 for anything else (hidden, not public...)."""
    not_found = Open311Error(
        404, _("service_request_id “%(id)s” was not found.") % {"id": service_request_id}
    )
    if not service_request_id.isdigit() or len(service_request_id) > 18:
        raise not_found
    reports = public_reports().annotate(status_notes=_status_notes())
    if city is not None:
        reports = reports.filter(city=city)
    report = reports.filter(pk=int(service_request_id)).first()
    if report is None:
        raise not_found
    return report


def unknown_service_codes(codes: list[str]) -> list[str]:
    known = set(Category.objects.filter(code__in=codes).values_list("code", flat=True))
    return [code for code in codes if code not in known]


def catalogue_changed_at() -> datetime | None:
    """When the services or their definitions (or the jurisdictions) last changed.

    Categories carry no timestamps; every change to them in the admin site is in the audit log,
    and a new city is a new jurisdiction.
    """
    edited = AuditEvent.objects.filter(
        tag__in=[str(tag) for tag in CATALOGUE_TAGS], subject_type__in=CATALOGUE_SUBJECTS
    ).aggregate(at=Max("created_at"))["at"]
    loaded = AuditEvent.objects.filter(tag=str(AuditTag.DEMO_CITY_LOADED)).aggregate(
        at=Max("created_at")
    )["at"]
    cities = City.objects.aggregate(at=Max("created_at"))["at"]
    moments = [moment for moment in (edited, loaded, cities) if moment is not None]
    return max(moments) if moments else None
