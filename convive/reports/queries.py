"""Reads for the staff inbox: the filtered list, the choices of its filters, a report's details.

Every list starts from ``convive.reports.access.reports_for``: nothing here widens what a person
may see, it only narrows it.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Any

from django.db.models import Case, IntegerField, Q, QuerySet, Value, When
from django.utils import timezone
from django.utils.dateparse import parse_datetime

from convive.accounts.models import User
from convive.accounts.permissions import Action, roles_for
from convive.accounts.roles import Role
from convive.institutions.models import Institution
from convive.institutions.queries import territories_within
from convive.reports.access import FALLBACK_KINDS, reports_for
from convive.reports.models import (
    TRACKING_LENGTH,
    Category,
    Question,
    Report,
    ReportEvent,
    normalise_tracking_code,
)
from convive.territories.models import Layer, Territory

OPEN = "open"  # the status filter's value for "any open status"


@dataclass(frozen=True)
class InboxFilters:
    territory_id: int | None = None
    category_id: int | None = None
    status: str = ""  # a Report.Status value, OPEN, or "" for any
    urgent_only: bool = False
    unrouted_only: bool = False
    text: str = ""


def _text_condition(text: str) -> Q:
    """Words in the description or the address; a tracking code typed by a caller."""
    condition = Q(description__icontains=text) | Q(address__icontains=text)
    code = normalise_tracking_code(text)
    if len(code) == TRACKING_LENGTH:
        condition |= Q(tracking_code=code)
    return condition


def list_inbox_reports(user: Any, filters: InboxFilters) -> QuerySet[Report]:
    """The reports of the inbox: open urgent ones first, then the newest first."""
    reports = reports_for(user)
    if filters.territory_id is not None:
        reports = reports.filter(
            Q(locality_id=filters.territory_id) | Q(neighbourhood_id=filters.territory_id)
        )
    if filters.category_id is not None:
        reports = reports.filter(category_id=filters.category_id)
    if filters.status == OPEN:
        reports = reports.filter(status__in=Report.OPEN_STATUSES)
    elif filters.status:
        reports = reports.filter(status=filters.status)
    if filters.urgent_only:
        reports = reports.filter(is_urgent=True)
    if filters.unrouted_only:
        reports = reports.filter(institution__isnull=True)
    if filters.text:
        reports = reports.filter(_text_condition(filters.text))
    # A closed SOS stays urgent, but it no longer needs anybody first.
    urgent_open = Case(
        When(is_urgent=True, status__in=Report.OPEN_STATUSES, then=Value(1)),
        default=Value(0),
        output_field=IntegerField(),
    )
    return reports.annotate(urgent_open=urgent_open).order_by("-urgent_open", "-created_at", "-pk")


def _report_memberships(user: Any) -> list:
    granted = roles_for(Action.REPORT_INBOX)
    return [
        m
        for m in user.active_memberships
        if Role(m.role) in granted and m.institution_id is not None
    ]


def inbox_territory_choices(user: Any) -> list[Territory]:
    """The localities the person's inbox covers, to filter by (one city's, or several)."""
    localities = Territory.objects.filter(layer__kind=Layer.Kind.LOCALITY).select_related("city")
    if user.has_role(Role.PLATFORM_ADMIN):
        return list(localities.order_by("city__name", "code"))
    whole_cities: set[int] = set()
    roots: set[int] = set()
    for membership in _report_memberships(user):
        institution = membership.institution
        narrowed = [t.pk for t in membership.territories.all()]
        if narrowed:
            roots.update(narrowed)
        elif institution.covers_whole_city:
            whole_cities.add(institution.city_id)
        else:
            roots.update(institution.coverage.values_list("pk", flat=True))
    inside = territories_within(roots) if roots else set()
    covered = Q(city_id__in=whole_cities) | Q(pk__in=inside)
    return list(localities.filter(covered).order_by("city__name", "code"))


def sees_fallback_queue(user: Any) -> bool:
    """Staff of a city-wide secretariat or command centre handle reports nobody could route."""
    if user.has_role(Role.PLATFORM_ADMIN):
        return True
    return any(m.institution.kind in FALLBACK_KINDS for m in _report_memberships(user))


def inbox_category_choices() -> QuerySet[Category]:
    return Category.objects.order_by("kind", "order", "name_es")


def list_timeline(report: Report) -> QuerySet[ReportEvent]:
    """Every step of the report, internal notes included (staff only)."""
    return report.events.select_related("author", "institution").order_by("created_at", "pk")


def list_assignable_people(report: Report) -> QuerySet[User]:
    """The active members of the institution that handles ``report``."""
    if report.institution_id is None:
        return User.objects.none()
    return (
        User.objects.filter(
            is_active=True,
            memberships__institution_id=report.institution_id,
            memberships__active=True,
        )
        .distinct()
        .order_by("first_name", "last_name", "username")
    )


def list_reroute_institutions(report: Report) -> QuerySet[Institution]:
    """Where a report can be sent: active institutions of its city that handle reports."""
    return (
        Institution.objects.filter(city_id=report.city_id, active=True)
        .exclude(kind=Institution.Kind.CAMERA_PARTNER)
        .exclude(pk=report.institution_id)
        .order_by("name")
    )


@dataclass(frozen=True)
class Answer:
    label: str
    value: str


def _answer_text(question: Question | None, value: Any) -> str:
    if question is None:
        return ", ".join(map(str, value)) if isinstance(value, list) else str(value)
    options = dict(question.options())
    if question.datatype == Question.Datatype.MULTI:
        return ", ".join(options.get(str(v), str(v)) for v in value)
    if question.datatype == Question.Datatype.SINGLE:
        return options.get(str(value), str(value))
    if question.datatype == Question.Datatype.DATETIME:
        moment = parse_datetime(str(value))
        if isinstance(moment, datetime):
            if timezone.is_naive(moment):
                moment = timezone.make_aware(moment)
            return timezone.localtime(moment).strftime("%Y-%m-%d %H:%M")
    return str(value)


def list_answers(report: Report) -> list[Answer]:
    """The answers to the category's questions, with the questions' labels, in their order.

    An answer whose question was removed from the catalogue is still shown, under its code.
    """
    questions = {q.code: q for q in report.category.questions.all()}
    order = {code: i for i, code in enumerate(questions)}
    codes = sorted(report.answers, key=lambda code: (order.get(code, len(order)), code))
    return [
        Answer(
            questions[code].label if code in questions else code,
            _answer_text(questions.get(code), report.answers[code]),
        )
        for code in codes
    ]


def can_act_on(user: Any, report: Report, action: Action) -> bool:
    """May ``user`` take ``action`` on ``report`` (role and scope, as the action's view checks)?"""
    return reports_for(user, action).filter(pk=report.pk).exists()


def list_place_territories(report: Report) -> list[tuple[Territory, str]]:
    """What the report's small map draws, with a CSS class each: its locality as the ground,
    the neighbourhoods inside, the report's own neighbourhood highlighted."""
    if report.locality_id is None:
        return []
    children = list(Territory.objects.filter(parent_id=report.locality_id).order_by("code"))
    if not children:
        return [(report.locality, "")]
    shapes = [(report.locality, "context")]
    shapes += [(t, "highlight" if t.pk == report.neighbourhood_id else "") for t in children]
    return shapes
