"""``/api/v1/reports``: the citizen app and the staff tools, over the same actions as the site.

Intake (``POST /api/v1/reports``) works without a session and without a CSRF token: a phone
that kept a report offline sends it when it can. Every submission carries an idempotency key;
a retry answers 200 with the report the key already made. When a session is present and the
report is not anonymous, the account is attached only if the request also passes Django's CSRF
check, so that another site cannot file reports in someone's name.

Staff endpoints lock the report (``access_report_by_id(..., for_update=True)``) inside one
durable transaction and call one action; a conflict (409) states the report's current state.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from typing import Any

import h3
from django.db import transaction
from django.http import HttpRequest
from django.utils.translation import gettext as _
from ninja import File, Form, Query, Router, Status
from ninja.errors import ValidationError as NinjaValidationError
from ninja.files import UploadedFile
from ninja.utils import check_csrf
from pydantic import ValidationError as PydanticValidationError

from convive.accounts.models import User
from convive.accounts.network import client_ip
from convive.accounts.permissions import Action, api_permission
from convive.core.errors import ActionError, RateLimitError
from convive.core.geo import check_lon_lat, h3_cell
from convive.core.ratelimit import Limit, hit
from convive.institutions.models import Institution
from convive.reports import actions, queries
from convive.reports.access import (
    access_own_reports,
    access_public_report_by_id,
    access_report_by_code,
    access_report_by_id,
    public_reports,
)
from convive.reports.models import Category, Report
from convive.reports.schemas import (
    AssigneeUpdate,
    CategoriesPublic,
    CategoryPublic,
    InboxFilters,
    InstitutionUpdate,
    MessageCreate,
    NearbyReportPublic,
    NearbyReportsPublic,
    NoteCreate,
    OwnReportPublic,
    OwnReportsPublic,
    RatingCreate,
    ReplyCreate,
    ReportCreate,
    ReportCreated,
    ReportDetailPublic,
    ReporterRestrictionCreate,
    ReporterRestrictionPublic,
    ReportSummariesPublic,
    ReportSummaryPublic,
    StaffEventPublic,
    StatusUpdate,
    SupporterCreate,
    SupporterPublic,
    TimelineEventPublic,
    TrackedReportPublic,
    VisibilityUpdate,
)
from convive.territories.models import City

router = Router(tags=["reports"])

# Per client address and per account. A shared address (a carrier's NAT) is why the daily
# ceiling is generous; an account that abuses it is restricted by moderation instead.
CREATE_LIMITS_PER_ADDRESS = (Limit(10, 60), Limit(100, 24 * 3600))
CREATE_LIMITS_PER_ACCOUNT = (Limit(20, 60),)
SUPPORT_LIMITS = (Limit(10, 60), Limit(100, 24 * 3600))
TRACK_LIMITS = (Limit(60, 60),)  # a tracking code has 60 random bits; this only slows a script
MESSAGE_LIMITS = (Limit(10, 60), Limit(200, 24 * 3600))
NEARBY_RING = 2  # H3 cells around the point's (resolution 9): ~500 m, trimmed to NEARBY_METRES
NEARBY_METRES = 300.0
NEARBY_MAX = 10
NEARBY_CANDIDATES = 500
EARTH_RADIUS_M = 6_371_000.0


# --- Helpers -----------------------------------------------------------------------------------


def check_limits(scope: str, identity: str, limits: tuple[Limit, ...]) -> None:
    verdict = hit(scope, identity, *limits)
    if not verdict.allowed:
        raise RateLimitError(
            _("Too many requests; try again in %(seconds)d seconds.")
            % {"seconds": verdict.retry_after},
            retry_after=verdict.retry_after,
        )


def text_param(value: str, field: str) -> str:
    """A path or query text, refused when it holds NUL (the database cannot compare it)."""
    if "\x00" in value:
        raise ActionError(_("The request contains a NUL character."), field=field)
    return value


def _address(request: HttpRequest) -> str:
    return client_ip(request) or "unknown"


def session_account(request: HttpRequest) -> User | None:
    """The logged-in account, if the request may act for it (it passes the CSRF check)."""
    user = request.user
    if not user.is_authenticated:
        return None
    if check_csrf(request) is not None:
        raise ActionError(
            _("Reload the page and try again (the security token is missing or old)."), status=403
        )
    return user


def metres_between(lon1: float, lat1: float, lon2: float, lat2: float) -> float:
    """Great-circle distance (haversine): exact enough at the scale of a neighbourhood."""
    phi1, phi2 = math.radians(lat1), math.radians(lat2)
    d_phi, d_lambda = phi2 - phi1, math.radians(lon2 - lon1)
    a = math.sin(d_phi / 2) ** 2 + math.cos(phi1) * math.cos(phi2) * math.sin(d_lambda / 2) ** 2
    return 2 * EARTH_RADIUS_M * math.asin(math.sqrt(a))


# --- The catalogue -----------------------------------------------------------------------------


@router.get(
    "/categories",
    response=CategoriesPublic,
    url_name="reports_categories",
    **api_permission(Action.PUBLIC),
)
def list_categories(request: HttpRequest) -> CategoriesPublic:
    """The active catalogue in the request's language, with each category's extra questions."""
    categories = Category.objects.filter(active=True).prefetch_related("questions")
    data = [CategoryPublic.from_category(c) for c in categories]
    return CategoriesPublic(data=data, count=len(data))


# --- Intake ------------------------------------------------------------------------------------


def _city(slug: str | None) -> City | None:
    if not slug:
        return None
    city = City.objects.filter(slug=slug).first()
    if city is None:
        raise ActionError(_("Unknown city “%(slug)s”.") % {"slug": slug}, field="city")
    return city


def _report_input(payload: ReportCreate) -> actions.ReportInput:
    return actions.ReportInput(
        category_code=payload.category,
        idempotency_key=payload.idempotency_key,
        channel=Report.Channel.APP,
        lon=payload.lon,
        lat=payload.lat,
        address=payload.address,
        description=payload.description,
        answers=payload.answers,
        anonymous=payload.anonymous,
        contact_name=payload.contact_name,
        contact_email=payload.contact_email,
        contact_phone=payload.contact_phone,
        city=_city(payload.city),
        sos=payload.sos,
    )


def _check_replay(report: Report, payload: ReportCreate) -> Report:
    """A retry must be the same submission: a reused key must not reveal another's report."""
    same = (
        report.category.code == payload.category
        and report.description == payload.description.strip()
    )
    if not same:
        raise ActionError(
            _("This idempotency key was already used for a different report; make a new key."),
            status=409,
            field="idempotency_key",
        )
    return report


def intake(request: HttpRequest, payload: ReportCreate, photos: list[UploadedFile]) -> Status:
    """Create the report (201), or answer a retry with the report already made (200)."""
    existing = actions.find_existing(payload.idempotency_key)
    if existing is not None:  # a retry costs nothing against the rate limits
        return Status(200, ReportCreated.from_report(_check_replay(existing, payload)))
    check_limits("report:create", _address(request), CREATE_LIMITS_PER_ADDRESS)
    account = None if payload.anonymous else session_account(request)
    if request.user.is_authenticated:
        check_limits("report:create:account", str(request.user.pk), CREATE_LIMITS_PER_ACCOUNT)
    data = _report_input(payload)
    with transaction.atomic(durable=True):  # the key was looked up just above: not again
        report, created = actions.check_create_report(
            account, data, photos=photos, key_checked=True
        )
    if not created:  # a twin request won the race
        return Status(200, ReportCreated.from_report(_check_replay(report, payload)))
    return Status(201, ReportCreated.from_report(report))


@router.post(
    "",
    response={201: ReportCreated, 200: ReportCreated},
    url_name="reports_create",
    **api_permission(Action.PUBLIC),
)
def create_report(request: HttpRequest, payload: ReportCreate) -> Status:
    """Report a problem (no account needed). 201 when created, 200 when retried."""
    return intake(request, payload, [])


@router.post(
    "/with-photos",
    response={201: ReportCreated, 200: ReportCreated},
    url_name="reports_create_with_photos",
    **api_permission(Action.PUBLIC),
)
def create_report_with_photos(
    request: HttpRequest,
    payload: Form[str],
    photos: File[list[UploadedFile]] = None,  # type: ignore[assignment]
) -> Status:
    """The same, as ``multipart/form-data``: ``payload`` holds the ReportCreate JSON, and up to
    five ``photos`` (JPEG, PNG, WebP or GIF, ≤ 10 MB each; 413/415 otherwise). Photos are
    re-encoded without their metadata (no GPS)."""
    try:
        data = ReportCreate.model_validate_json(payload)
    except PydanticValidationError as exc:
        errors = [{**e, "loc": ("payload", *e.get("loc", ()))} for e in exc.errors()]
        raise NinjaValidationError(errors) from None
    return intake(request, data, list(photos or []))


# --- The public: nearby reports and "me too" ---------------------------------------------------


@router.get(
    "/nearby",
    response=NearbyReportsPublic,
    url_name="reports_nearby",
    **api_permission(Action.PUBLIC),
)
def list_nearby(request: HttpRequest, category: str, lat: float, lon: float) -> NearbyReportsPublic:
    """Open reports of the category within ~300 m, newest first ("is it this one?").

    Reports of categories that are not public are never listed."""
    lon, lat = check_lon_lat(lon, lat)
    found = Category.objects.filter(code=text_param(category, "category"), active=True).first()
    if found is None:
        raise ActionError(_("Unknown category “%(code)s”.") % {"code": category}, field="category")
    cells = h3.grid_disk(h3_cell(lon, lat), NEARBY_RING)
    candidates = public_reports().filter(
        category=found, status__in=Report.OPEN_STATUSES, h3_cell__in=cells
    )
    items = []
    for report in candidates.order_by("-created_at", "-pk")[:NEARBY_CANDIDATES]:
        distance = metres_between(lon, lat, report.lon, report.lat)
        if distance <= NEARBY_METRES:
            items.append(NearbyReportPublic.from_report(report, distance))
        if len(items) == NEARBY_MAX:
            break
    return NearbyReportsPublic(data=items, count=len(items))


@router.post(
    "/{int:report_id}/support",
    response={201: SupporterPublic, 200: SupporterPublic},
    url_name="reports_support",
    **api_permission(Action.PUBLIC),
)
def support_report(request: HttpRequest, report_id: int, payload: SupporterCreate) -> Status:
    """ "Me too" on a public, open report: counted, and told about its progress."""
    check_limits("report:support", _address(request), SUPPORT_LIMITS)
    account = session_account(request)
    with transaction.atomic(durable=True):
        report = access_public_report_by_id(report_id, for_update=True)
        supporter, created = actions.check_support_report(
            report,
            user=account,
            email=payload.email,
            phone=payload.phone,
            idempotency_key=payload.idempotency_key,
        )
    if supporter.report_id != report.pk:
        raise ActionError(
            _("This idempotency key was already used for another report; make a new key."),
            status=409,
            field="idempotency_key",
        )
    body = {"report_id": report.pk, "supporters_count": report.supporters_count}
    return Status(201 if created else 200, body)


# --- The citizen, with the tracking code -------------------------------------------------------


@router.get(
    "/track/{code}",
    response=TrackedReportPublic,
    url_name="reports_track",
    **api_permission(Action.PUBLIC),
)
def track_report(request: HttpRequest, code: str) -> TrackedReportPublic:
    """Follow a report with its tracking code (dashes, spaces and case do not matter)."""
    check_limits("report:track", _address(request), TRACK_LIMITS)
    return TrackedReportPublic.from_report(access_report_by_code(text_param(code, "code")))


@router.post(
    "/track/{code}/messages",
    response={201: TimelineEventPublic},
    url_name="reports_track_message",
    **api_permission(Action.PUBLIC),
)
def add_message(request: HttpRequest, code: str, payload: MessageCreate) -> Status:
    """Add information or answer the institution. Signed with the account only when the
    logged-in person is the reporter (an anonymous report stays anonymous)."""
    check_limits("report:message", _address(request), MESSAGE_LIMITS)
    with transaction.atomic(durable=True):
        report = access_report_by_code(text_param(code, "code"), for_update=True)
        is_reporter = request.user.is_authenticated and report.reporter_id == request.user.pk
        author = session_account(request) if is_reporter else None
        event = actions.check_add_citizen_message(report, body=payload.body, author=author)
    return Status(201, TimelineEventPublic.from_event(event))


@router.post(
    "/track/{code}/rating",
    response=TrackedReportPublic,
    url_name="reports_track_rating",
    **api_permission(Action.PUBLIC),
)
def rate_report(request: HttpRequest, code: str, payload: RatingCreate) -> TrackedReportPublic:
    """Rate the answer (1 to 5) once the report is closed; once only (409 after)."""
    check_limits("report:message", _address(request), MESSAGE_LIMITS)
    with transaction.atomic(durable=True):
        report = access_report_by_code(text_param(code, "code"), for_update=True)
        actions.check_rate_report(report, rating=payload.rating, comment=payload.comment)
    return TrackedReportPublic.from_report(report)


@router.get(
    "/mine",
    response=OwnReportsPublic,
    url_name="reports_mine",
    **api_permission(Action.ACCOUNT_VIEW),
)
def list_own_reports(
    request: HttpRequest, limit: int = Query(50, ge=1, le=200), offset: int = Query(0, ge=0)
) -> OwnReportsPublic:
    """The reports one made (with their tracking codes) and those one supports."""
    reports = access_own_reports(request.user).order_by("-created_at", "-pk")
    data = [OwnReportPublic.from_report(r, request.user) for r in reports[offset : offset + limit]]
    return OwnReportsPublic(data=data, count=reports.count())


# --- Staff -------------------------------------------------------------------------------------


def _inbox_filters(params: InboxFilters) -> queries.InboxFilters:
    status = params.status or ""
    if status and status != queries.OPEN and status not in Report.Status.values:
        raise ActionError(_("Unknown status “%(status)s”.") % {"status": status}, field="status")
    category_id = None
    if params.category:
        found = Category.objects.filter(code=params.category).values_list("pk", flat=True)
        category_id = found.first()
        if category_id is None:
            raise ActionError(
                _("Unknown category “%(code)s”.") % {"code": params.category}, field="category"
            )
    return queries.InboxFilters(
        territory_id=params.territory,
        category_id=category_id,
        status=status,
        urgent_only=params.urgent,
        unrouted_only=params.unrouted,
    )


@router.get(
    "/inbox",
    response=ReportSummariesPublic,
    url_name="reports_inbox",
    **api_permission(Action.REPORT_INBOX),
)
def list_inbox(request: HttpRequest, params: Query[InboxFilters]) -> ReportSummariesPublic:
    """The reports of one's institutions and territories: urgent open ones first, then newest."""
    reports = queries.list_inbox_reports(request.user, _inbox_filters(params))
    page = reports[params.offset : params.offset + params.limit]
    data = [ReportSummaryPublic.from_report(r) for r in page]
    return ReportSummariesPublic(data=data, count=reports.count())


@router.get(
    "/{int:report_id}",
    response=ReportDetailPublic,
    url_name="reports_detail",
    **api_permission(Action.REPORT_INBOX),
)
def get_report(request: HttpRequest, report_id: int) -> ReportDetailPublic:
    """One report in full, contact data included: the look is recorded in the audit log."""
    with transaction.atomic(durable=True):
        report = access_report_by_id(request.user, report_id)
        actions.do_record_report_view(request.user, report)
    return ReportDetailPublic.from_report(report)


def _conflict(report: Report, exc: ActionError) -> ActionError:
    """A 409 that says what the report is now, so the client can refresh and decide again."""
    state = _("Now: %(status)s, %(institution)s, %(visibility)s.") % {
        "status": report.get_status_display(),
        "institution": report.institution.name if report.institution_id else _("not routed"),
        "visibility": _("hidden") if report.is_hidden else _("visible"),
    }
    return ActionError(f"{exc.message} {state}", status=409, field=exc.field)


def staff_change(
    request: HttpRequest, report_id: int, action: Action, change: Callable[[Report], Any]
) -> tuple[Report, Any]:
    """Lock the report the user may ``action``, apply ``change`` to it, in one transaction."""
    with transaction.atomic(durable=True):
        report = access_report_by_id(request.user, report_id, for_update=True, action=action)
        try:
            result = change(report)
        except ActionError as exc:
            if exc.status == 409:
                raise _conflict(report, exc) from exc
            raise
    return report, result


@router.post(
    "/{int:report_id}/status",
    response=ReportSummaryPublic,
    url_name="reports_status",
    **api_permission(Action.REPORT_HANDLE),
)
def change_status(
    request: HttpRequest, report_id: int, payload: StatusUpdate
) -> ReportSummaryPublic:
    """Change the status; resolved, closed and rejected need the text the citizen will read.
    With ``expected_status``, answer 409 if somebody changed the status meanwhile."""

    def change(report: Report) -> Report:
        if payload.expected_status and payload.expected_status != report.status:
            raise ActionError(_("Somebody changed the status meanwhile."), status=409)
        return actions.check_change_status(
            request.user, report, status=payload.status, text=payload.text
        )

    report, _changed = staff_change(request, report_id, Action.REPORT_HANDLE, change)
    return ReportSummaryPublic.from_report(report)


@router.post(
    "/{int:report_id}/replies",
    response={201: StaffEventPublic},
    url_name="reports_replies",
    **api_permission(Action.REPORT_HANDLE),
)
def reply(request: HttpRequest, report_id: int, payload: ReplyCreate) -> Status:
    """Answer the citizen (public: they are notified)."""
    _report, event = staff_change(
        request,
        report_id,
        Action.REPORT_HANDLE,
        lambda report: actions.check_reply(request.user, report, body=payload.body),
    )
    return Status(201, StaffEventPublic.from_event(event))


@router.post(
    "/{int:report_id}/notes",
    response={201: StaffEventPublic},
    url_name="reports_notes",
    **api_permission(Action.REPORT_HANDLE),
)
def add_note(request: HttpRequest, report_id: int, payload: NoteCreate) -> Status:
    """An internal note: staff only, never shown or sent to the citizen."""
    _report, event = staff_change(
        request,
        report_id,
        Action.REPORT_HANDLE,
        lambda report: actions.check_add_note(request.user, report, body=payload.body),
    )
    return Status(201, StaffEventPublic.from_event(event))


@router.post(
    "/{int:report_id}/assignee",
    response=ReportSummaryPublic,
    url_name="reports_assignee",
    **api_permission(Action.REPORT_HANDLE),
)
def assign(request: HttpRequest, report_id: int, payload: AssigneeUpdate) -> ReportSummaryPublic:
    """Give the report to a person of the institution that handles it."""
    person = User.objects.filter(pk=payload.user_id, is_active=True).first()
    if person is None:
        raise ActionError(_("Unknown person."), field="user_id")
    report, _result = staff_change(
        request,
        report_id,
        Action.REPORT_HANDLE,
        lambda report: actions.check_assign(request.user, report, assignee=person),
    )
    return ReportSummaryPublic.from_report(report)


@router.post(
    "/{int:report_id}/institution",
    response=ReportSummaryPublic,
    url_name="reports_institution",
    **api_permission(Action.REPORT_HANDLE),
)
def reroute(
    request: HttpRequest, report_id: int, payload: InstitutionUpdate
) -> ReportSummaryPublic:
    """Send the report to another institution of its city, saying why."""
    institution = Institution.objects.filter(pk=payload.institution_id).first()
    if institution is None:
        raise ActionError(_("Unknown institution."), field="institution_id")
    report, _result = staff_change(
        request,
        report_id,
        Action.REPORT_HANDLE,
        lambda report: actions.check_reroute(
            request.user, report, institution=institution, reason=payload.reason
        ),
    )
    return ReportSummaryPublic.from_report(report)


@router.post(
    "/{int:report_id}/hide",
    response=ReportSummaryPublic,
    url_name="reports_hide",
    **api_permission(Action.REPORT_MODERATE),
)
def hide(request: HttpRequest, report_id: int, payload: VisibilityUpdate) -> ReportSummaryPublic:
    """Take the report out of every public list (kept, never deleted; audited)."""
    report, _result = staff_change(
        request,
        report_id,
        Action.REPORT_MODERATE,
        lambda report: actions.check_hide(request.user, report, reason=payload.reason),
    )
    return ReportSummaryPublic.from_report(report)


@router.post(
    "/{int:report_id}/show",
    response=ReportSummaryPublic,
    url_name="reports_show",
    **api_permission(Action.REPORT_MODERATE),
)
def show(request: HttpRequest, report_id: int, payload: VisibilityUpdate) -> ReportSummaryPublic:
    report, _result = staff_change(
        request,
        report_id,
        Action.REPORT_MODERATE,
        lambda report: actions.check_show(request.user, report, reason=payload.reason),
    )
    return ReportSummaryPublic.from_report(report)


@router.post(
    "/{int:report_id}/reporter-restriction",
    response={201: ReporterRestrictionPublic},
    url_name="reports_reporter_restriction",
    **api_permission(Action.REPORT_MODERATE),
)
def restrict_reporter(
    request: HttpRequest, report_id: int, payload: ReporterRestrictionCreate
) -> Status:
    """Stop the account behind an abusive report from reporting for ``days`` (1 to 365)."""
    report, restriction = staff_change(
        request,
        report_id,
        Action.REPORT_MODERATE,
        lambda report: actions.check_restrict_reporter(
            request.user, report, days=payload.days, reason=payload.reason
        ),
    )
    body = {"report_id": report.pk, "until": restriction.until, "reason": restriction.reason}
    return Status(201, body)
