"""The only ways views, endpoints and consumers obtain a report.

Staff reach the reports routed to their institution, inside the territories they cover; staff of
a city-wide institution (secretariat, command centre) also reach the fallback queue (reports no
rule could route). Platform administrators reach everything. Citizens reach a report through its
tracking code, which is a secret they hold, or through their account.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from convive.accounts.permissions import Action, is_allowed, roles_for
from convive.accounts.roles import Role
from convive.institutions.models import Institution
from convive.institutions.queries import territories_within
from convive.reports.models import Category, Report, normalise_tracking_code

FALLBACK_KINDS = {Institution.Kind.SECURITY_SECRETARIAT, Institution.Kind.COMMAND_CENTRE}


def _membership_reports(membership: Any) -> Q:
    """The reports one membership reaches: its institution's (and, for a city-wide secretariat
    or command centre, the fallback queue of its city), inside the territories it covers.

    Judged membership by membership: a person who is a supervisor of the police in Kennedy and
    an analyst of the secretariat must not see the police's reports of Suba.

    A membership limited to some territories reaches the reports placed inside them. Without such
    a limit, every report routed to the institution is its staff's, wherever it is (a city-wide
    rule may send one where the institution covers nothing: it must not be stranded), and its part
    of the fallback queue is where it covers. Reports with no locality (an address only) are
    reached by every membership of the institution: its staff decide where they belong.
    """
    institution = membership.institution
    own = Q(institution_id=institution.pk)
    queue = Q(institution__isnull=True, city_id=institution.city_id)
    narrowed = [t.pk for t in membership.territories.all()]
    if narrowed or not institution.covers_whole_city:
        inside = territories_within(narrowed or institution.coverage.values_list("pk", flat=True))
        where = (
            Q(locality_id__in=inside)
            | Q(neighbourhood_id__in=inside)
            | Q(locality__isnull=True, city_id=institution.city_id)
        )
        queue &= where
        if narrowed:
            own &= where
    return own | queue if institution.kind in FALLBACK_KINDS else own


def reports_for(user: Any, action: Action = Action.REPORT_INBOX) -> QuerySet[Report]:
    """Every report ``user`` may see (REPORT_INBOX) or act on with ``action``, before filters.

    Only the memberships whose role grants ``action`` count.
    """
    reports = Report.objects.select_related(
        "category", "institution", "locality", "neighbourhood", "city", "assignee"
    )
    if not is_allowed(user, action):
        return reports.none()
    if user.has_role(Role.PLATFORM_ADMIN):
        return reports
    granted = roles_for(action)
    condition = Q(pk__in=[])
    for membership in user.active_memberships:
        if Role(membership.role) in granted and membership.institution_id is not None:
            condition |= _membership_reports(membership)
    return reports.filter(condition)


def access_report_by_id(
    user: Any, report_id: int, *, for_update: bool = False, action: Action = Action.REPORT_INBOX
) -> Report:
    """The report, if ``user`` may see it (or act on it with ``action``); 404 otherwise."""
    qs = reports_for(user, action)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    report = qs.filter(pk=report_id).first()
    if report is None:
        raise Http404(_("Report not found."))
    return report


def access_report_by_code(code: str, *, for_update: bool = False) -> Report:
    """The report whose tracking code was given (the citizen's capability)."""
    qs = Report.objects.select_related("category", "institution", "locality", "city")
    if for_update:
        qs = qs.select_for_update(of=("self",))
    report = qs.filter(tracking_code=normalise_tracking_code(code)).first()
    if report is None:
        raise Http404(_("No report has this tracking code."))
    return report


def access_own_reports(user: Any) -> QuerySet[Report]:
    """The reports of a logged-in citizen (never the anonymous ones: they name nobody)."""
    if not user.is_authenticated:
        return Report.objects.none()
    followed = Q(reporter=user) | Q(supporters__user=user)
    return Report.objects.filter(followed).distinct().select_related("category", "institution")


def public_reports() -> QuerySet[Report]:
    """Reports anyone may see (Open311, "nearby", "me too"): not hidden, in a public category.

    What of each report is shown follows its category's ``publication`` (full or coarse).
    """
    return (
        Report.objects.select_related("category", "institution", "city")
        .filter(is_hidden=False)
        .exclude(category__publication=Category.Publication.NONE)
    )


def access_public_report_by_id(report_id: int, *, for_update: bool = False) -> Report:
    qs = public_reports()
    if for_update:
        qs = qs.select_for_update(of=("self",))
    report = qs.filter(pk=report_id).first()
    if report is None:
        raise Http404(_("Report not found."))
    return report
