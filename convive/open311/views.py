"""Open311 GeoReport v2 at ``/open311/v2/``: discovery, services, requests, tokens.

Every resource answers in ``.json`` and ``.xml`` (``docs/open311.md``). Reading is public;
posting a request needs an ``api_key`` (``convive create_api_key NAME``), checked here, so the
POST is exempt from the CSRF check meant for browser sessions. Reports posted here are the same
``Report`` rows as those of the site and the app, made by the same action.
"""

from __future__ import annotations

from collections.abc import Callable
from functools import wraps

from django.conf import settings
from django.core.exceptions import RequestDataTooBig, TooManyFieldsSent
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, QueryDict
from django.urls import reverse
from django.utils.datastructures import MultiValueDict
from django.utils.translation import gettext as _
from django.views.decorators.csrf import csrf_exempt

from convive.accounts.network import client_ip
from convive.accounts.permissions import Action, requires
from convive.core.errors import ActionError
from convive.core.ratelimit import Limit, hit
from convive.open311 import mapping, queries
from convive.open311.errors import Open311Error, error_response
from convive.open311.params import (
    check_no_nul,
    idempotency_keys,
    parse_page,
    parse_request_filters,
    parse_submission,
    wants_extensions,
)
from convive.open311.render import render
from convive.reports.actions import ReportInput, check_create_report, find_existing
from convive.reports.apikeys import find_active_key
from convive.reports.models import ApiKey, Report
from convive.reports.notifications import tracking_url

POST_LIMIT_PER_ADDRESS = Limit(30, 60)
POST_LIMIT_PER_KEY = Limit(6000, 60)
FORM_TYPES = {"application/x-www-form-urlencoded", "multipart/form-data"}


def open311(*methods: str) -> Callable:
    """Answer refusals in the Open311 error format of the requested ``fmt``."""
    allowed = set(methods) | ({"HEAD"} if "GET" in methods else set())

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, fmt: str, **kwargs) -> HttpResponse:
            if request.method not in allowed:
                response = error_response(fmt, 405, _("Method not allowed."))
                response["Allow"] = ", ".join(sorted(allowed))
                return response
            try:
                check_no_nul(request.GET, kwargs)
                return view(request, *args, fmt=fmt, **kwargs)
            except Open311Error as exc:
                return error_response(fmt, exc.status, exc.description, retry_after=exc.retry_after)
            except ActionError as exc:
                return error_response(fmt, exc.status, exc.message)
            except Http404 as exc:
                return error_response(fmt, 404, str(exc) or _("Not found."))

        return wrapper

    return decorator


@requires(Action.PUBLIC)
@open311("GET")
def discovery(request: HttpRequest, fmt: str) -> HttpResponse:
    """Where the endpoint is, what it speaks, how to get a key (Service_Discovery.md)."""
    here = request.build_absolute_uri(reverse("open311:discovery", kwargs={"fmt": fmt}))
    changeset = mapping.w3(queries.catalogue_changed_at()) or ""
    site = settings.SITE_URL.rstrip("/")
    document = {
        "changeset": changeset,
        "contact": _("Write to the platform administrators of %(site)s.") % {"site": site},
        "key_service": _(
            "Ask the platform administrators of %(site)s for a key; "
            "they create it with `convive create_api_key NAME`."
        )
        % {"site": site},
        "endpoints": [
            {
                "specification": mapping.SPECIFICATION,
                "url": here.rsplit("/", 1)[0],
                "changeset": changeset,
                "type": "test" if settings.DEBUG else "production",
                "formats": ["text/xml", "application/json"],
            }
        ],
    }
    return render(fmt, "discovery", document)


@requires(Action.PUBLIC)
@open311("GET")
def services(request: HttpRequest, fmt: str) -> HttpResponse:
    queries.get_jurisdiction(request.GET.get("jurisdiction_id", ""))
    return render(fmt, "services", [mapping.service(c) for c in queries.list_services()])


@requires(Action.PUBLIC)
@open311("GET")
def service_definition(request: HttpRequest, service_code: str, fmt: str) -> HttpResponse:
    queries.get_jurisdiction(request.GET.get("jurisdiction_id", ""))
    category = queries.get_service(service_code)
    definition = mapping.service_definition(category, queries.list_questions(category))
    return render(fmt, "service_definition", definition)


@requires(Action.PUBLIC)
@csrf_exempt  # authenticated by api_key, not by a session cookie
@open311("GET", "POST")
def service_requests(request: HttpRequest, fmt: str) -> HttpResponse:
    if request.method == "POST":
        return create_service_request(request, fmt)
    city = queries.get_jurisdiction(request.GET.get("jurisdiction_id", ""))
    filters = parse_request_filters(request.GET)
    unknown = queries.unknown_service_codes(filters.service_codes)
    if unknown:
        raise Open311Error(400, _("service_code “%(code)s” was not found.") % {"code": unknown[0]})
    page, page_size = parse_page(request.GET)
    offset = (page - 1) * page_size
    reports = queries.list_service_requests(city, filters)[offset : offset + page_size]
    return render(fmt, "service_requests", [mapping.service_request(r) for r in reports])


@requires(Action.PUBLIC)
@open311("GET")
def service_request(request: HttpRequest, service_request_id: str, fmt: str) -> HttpResponse:
    city = queries.get_jurisdiction(request.GET.get("jurisdiction_id", ""))
    report = queries.get_service_request(city, service_request_id)
    return render(fmt, "service_requests", [mapping.service_request(report)])


@requires(Action.PUBLIC)
@open311("GET")
def request_from_token(request: HttpRequest, token: str, fmt: str) -> HttpResponse:
    """We answer every POST in realtime with its service_request_id, so no token ever exists."""
    queries.get_jurisdiction(request.GET.get("jurisdiction_id", ""))
    raise Open311Error(
        404,
        _(
            "Token “%(token)s” was not found: this server never issues tokens "
            "(its services are of type realtime)."
        )
        % {"token": token[:100]},
    )


# --- POST requests -------------------------------------------------------------------------------


def _limit(scope: str, identity: str, limit: Limit) -> None:
    verdict = hit(scope, identity, limit)
    if not verdict.allowed:
        raise Open311Error(
            429, _("Too many requests; try again later."), retry_after=verdict.retry_after
        )


def _form(request: HttpRequest) -> tuple[QueryDict, MultiValueDict]:
    """``(form, files)`` of a POST, or the error for a body we do not take."""
    if request.content_type not in FORM_TYPES:
        raise Open311Error(415, _("Send the request as application/x-www-form-urlencoded."))
    try:
        form, files = request.POST, request.FILES
    except (RequestDataTooBig, TooManyFieldsSent):
        raise Open311Error(413, _("The request is too large.")) from None
    if files:
        raise Open311Error(415, _("Send media as a media_url link; files are not accepted here."))
    check_no_nul(form, {})
    return form, files


def _api_key(form: QueryDict) -> ApiKey:
    key = (form.get("api_key") or "").strip()
    if not key:
        raise Open311Error(403, _("api_key was not provided -- can't proceed with create_request."))
    api_key = find_active_key(key)
    if api_key is None:
        raise Open311Error(403, _("Invalid api_key received -- can't proceed with create_request."))
    return api_key


def _idempotency_key(api_key: ApiKey, request: HttpRequest, form: QueryDict) -> str:
    """The key of a report this submission already made, or else the key to create it with."""
    candidates = idempotency_keys(api_key.prefix, form, request.headers.get("Idempotency-Key", ""))
    made = next((key for key in candidates if find_existing(key) is not None), None)
    return made or candidates[0]


def create_service_request(request: HttpRequest, fmt: str) -> HttpResponse:
    """POST requests: the same intake as the site and the app, channel ``open311``."""
    form, _files = _form(request)
    _limit("open311:post:address", client_ip(request) or "unknown", POST_LIMIT_PER_ADDRESS)
    api_key = _api_key(form)
    _limit("open311:post:key", api_key.prefix, POST_LIMIT_PER_KEY)
    jurisdiction = form.get("jurisdiction_id") or request.GET.get("jurisdiction_id", "")
    city = queries.get_jurisdiction(jurisdiction)
    submission = parse_submission(form)
    queries.get_service(submission.service_code)
    data = ReportInput(
        category_code=submission.service_code,
        idempotency_key=_idempotency_key(api_key, request, form),
        channel=Report.Channel.OPEN311,
        lon=submission.lon,
        lat=submission.lat,
        address=submission.address,
        description=submission.description,
        answers=submission.attributes,
        anonymous=not submission.has_contact,
        contact_name=submission.name,
        contact_email=submission.email,
        contact_phone=submission.phone,
        city=city,
        media_url=submission.media_url,
    )
    with transaction.atomic(durable=True):
        report, created = check_create_report(None, data, api_key=api_key)
    link = tracking_url(report) if wants_extensions(form, request.GET) else ""
    body = [mapping.created_request(report, tracking_url=link)]
    return render(fmt, "service_requests", body, status=201 if created else 200)
