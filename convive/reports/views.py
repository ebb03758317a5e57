"""Citizen pages of reports: report, SOS, follow (with the tracking code), track, my reports.

Every page works without JavaScript: plain forms, server-side validation and errors. The scripts
(``static/reports/js``) add the map, GPS, duplicates and the offline queue; they post to the
same views with ``Accept: application/json`` and get the same answers as JSON. Nothing about the
client (address, user agent) is stored: the address only feeds a hashed, expiring rate counter.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any

from django.conf import settings
from django.contrib import messages
from django.contrib.staticfiles import finders
from django.core.paginator import Paginator
from django.db import transaction
from django.http import (
    Http404,
    HttpRequest,
    HttpResponse,
    JsonResponse,
)
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.translation import gettext as _
from django.views.decorators.cache import cache_control
from django.views.decorators.debug import sensitive_post_parameters
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from convive.accounts.network import client_ip
from convive.accounts.permissions import Action, requires
from convive.accounts.qr import qr_svg
from convive.core.errors import ActionError
from convive.core.ratelimit import Limit, hit
from convive.incidents.queries import incident_status_for_report
from convive.reports.access import access_own_reports, access_report_by_code
from convive.reports.actions import (
    check_add_citizen_message,
    check_create_report,
    check_rate_report,
)
from convive.reports.forms import (
    MessageForm,
    RatingForm,
    ReportForm,
    SosForm,
    TrackForm,
    new_idempotency_key,
)
from convive.reports.models import Category, Report, ReportEvent
from convive.reports.notifications import tracking_url
from convive.reports.queries import list_answers
from convive.territories.models import City, Layer

# Per client address: enough for a person reporting several things, too few for a script.
REPORT_LIMITS = (Limit(10, 60), Limit(100, 24 * 3600))
MESSAGE_LIMITS = (Limit(10, 60), Limit(200, 24 * 3600))
MAP_SIMPLIFY = 0.0005  # degrees (~50 m): light enough for a phone, precise enough to place a pin
PER_PAGE = 20
SENSITIVE = ("contact_name", "contact_email", "contact_phone", "description", "body", "comment")
# Precached by the service worker: the report page works offline once it has been opened.
SHELL_PAGES = ("reports:new", "reports:sos")
STATIC_ASSETS = (
    "convive/css/app.css",
    "convive/img/icon.svg",
    "reports/css/reports.css",
    "reports/js/queue.js",
    "reports/js/place.js",
    "reports/js/report.js",
    "reports/img/icon-192.png",
    "vendor/leaflet/leaflet.css",
    "vendor/leaflet/leaflet.js",
    "vendor/leaflet/images/marker-icon.png",
    "vendor/leaflet/images/marker-icon-2x.png",
    "vendor/leaflet/images/marker-shadow.png",
)


# --- Reads for the pages (the catalogue and the map are public) ------------------------------


def _categories() -> list[Category]:
    return list(Category.objects.filter(active=True).prefetch_related("questions"))


def _cities() -> list[City]:
    return list(City.objects.order_by("name"))


def _urgent_category() -> Category | None:
    """The category an SOS is filed under: the first active urgent one of the catalogue."""
    return Category.objects.filter(active=True, urgent=True).order_by("order", "pk").first()


def _map_layers(cities: list[City]) -> list[dict[str, str]]:
    """The GeoJSON of each city's localities (or its first layer), drawn without any tiles."""
    layers = Layer.objects.filter(city__in=cities).select_related("city").order_by("pk")
    chosen: dict[int, Layer] = {}
    for layer in layers:
        if layer.city_id not in chosen or (
            layer.kind == Layer.Kind.LOCALITY and chosen[layer.city_id].kind != layer.kind
        ):
            chosen[layer.city_id] = layer
    return [
        {
            "city": layer.city.slug,
            "url": reverse("api:territories_layer", args=[layer.city.slug, layer.slug])
            + f"?simplify={MAP_SIMPLIFY}",
            "locate": reverse("api:territories_locate", args=[layer.city.slug]),
        }
        for layer in chosen.values()
    ]


def emergency_number(cities: list[City]) -> str:
    """The number to call: the city's own when there is one city, else the default."""
    if len(cities) == 1:
        return settings.EMERGENCY_NUMBERS.get(cities[0].slug, settings.EMERGENCY_NUMBER)
    return settings.EMERGENCY_NUMBER


def _queue_config() -> dict[str, Any]:
    """What the offline queue needs on every report page: the service worker, the messages."""
    return {
        "sw": reverse("reports:service_worker"),
        "scope": reverse("reports:new"),
        "text": client_texts(),
    }


def _client_config(cities: list[City], categories: Sequence[Category] = ()) -> dict[str, Any]:
    """What the scripts need, as JSON in the page: URLs, map settings, translated messages."""
    tiles = None
    if settings.MAP_TILE_URL:
        tiles = {"url": settings.MAP_TILE_URL, "attribution": settings.MAP_TILE_ATTRIBUTION}
    return {
        **_queue_config(),
        "urgent": [category.code for category in categories if category.urgent],
        "layers": _map_layers(cities),
        "tiles": tiles,
        "icon": {
            "url": static("vendor/leaflet/images/marker-icon.png"),
            "retina": static("vendor/leaflet/images/marker-icon-2x.png"),
            "shadow": static("vendor/leaflet/images/marker-shadow.png"),
        },
        "nearby": reverse("api:reports_nearby"),
        "support": reverse("api:reports_support", args=[0]).replace("/0/", "/{id}/"),
    }


def client_texts() -> dict[str, str]:
    return {
        "saved": _(
            "Saved on this phone. It will be sent by itself when you are back online; "
            "you can close this page."
        ),
        "saved_sos": _(
            "Saved on this phone: the SOS alert will be sent when you are back online. If someone "
            "is in danger, call now: calls work without internet."
        ),
        "sending": _("Sending…"),
        "sent": _("Your report was received. Tracking code:"),
        "follow": _("Follow it"),
        "queued": _("Reports waiting on this phone to be sent:"),
        "failed": _("A report saved on this phone could not be sent:"),
        "edit": _("Put it back in the form"),
        "discard": _("Discard it"),
        "gps_wait": _("Finding your location…"),
        "gps_ok": _("Location found (accuracy about %(metres)s m)."),
        "gps_denied": _("We could not get your location. Mark it on the map or write an address."),
        "pin": _("Point marked on the map. You can drag it."),
        "in": _("Place: %(name)s"),
        "outside": _("This point is outside the areas served here."),
        "place_needed": _("Say where it happens: a point on the map, your location or an address."),
        "too_many_photos": _("At most 5 photos per report."),
        "photo_too_big": _("A photo is larger than 10 MB."),
        "nearby": _("Is it one of these? Reports of the same kind nearby:"),
        "me_too": _("Me too"),
        "me_too_done": _("Thank you: you were added to this report and will get its updates."),
        "supporters_one": _("reported by one person"),
        "supporters_many": _("reported by %(count)s people"),
        "error": _("Something went wrong. Please try again."),
    }


# --- Small helpers -----------------------------------------------------------------------------


def _wants_json(request: HttpRequest) -> bool:
    return "application/json" in request.headers.get("Accept", "")


def _reporter(request: HttpRequest) -> Any:
    return request.user if request.user.is_authenticated else None


def _rate_limited(request: HttpRequest, scope: str, limits: tuple[Limit, ...]) -> Any:
    """A 429 answer when this client went over ``limits``; None when it may go on."""
    verdict = hit(scope, client_ip(request) or "unknown", *limits)
    if verdict.allowed:
        return None
    message = _("Too many submissions from this connection. Try again in a few minutes.")
    if _wants_json(request):
        response = JsonResponse(
            {"ok": False, "error": message, "errors": [], "status": 429}, status=429
        )
    else:
        context = {"retry_after": verdict.retry_after, "message": message}
        response = render(request, "reports/report_rate_limited.html", context, status=429)
    response["Retry-After"] = str(verdict.retry_after)
    return response


def _form_errors(form: Any) -> list[dict[str, str | None]]:
    return [
        {"field": None if name == "__all__" else name, "message": str(message)}
        for name, errors in form.errors.items()
        for message in errors
    ]


def _create(request: HttpRequest, form: Any, build: Any) -> tuple[Report | None, int]:
    """Run ``check_create_report`` on a valid form; on refusal, the error lands on the form."""
    try:
        with transaction.atomic(durable=True):
            report, created = check_create_report(
                _reporter(request), build(), photos=request.FILES.getlist("photos")
            )
    except ActionError as exc:
        form.add_error(form.field_for_error(exc.field), exc.message)
        return None, exc.status
    return report, 201 if created else 200


def _created_response(request: HttpRequest, report: Report, status: int) -> HttpResponse:
    url = reverse("reports:follow", args=[report.tracking_code]) + "?new=1"
    if _wants_json(request):
        body = {
            "ok": True,
            "code": report.tracking_code,
            "display_code": report.display_code,
            "url": url,
            "created": status == 201,
        }
        return JsonResponse(body, status=status)
    return redirect(url)


def _refused_response(
    request: HttpRequest, form: Any, status: int, template: str, context: dict
) -> HttpResponse:
    if _wants_json(request):
        message = _("Please correct the errors below.")
        body = {"ok": False, "error": message, "errors": _form_errors(form), "status": status}
        return JsonResponse(body, status=status)
    return render(request, template, {**context, "form": form}, status=status)


# --- Reporting ---------------------------------------------------------------------------------


def _new_context(categories: list[Category], cities: list[City]) -> dict[str, Any]:
    return {
        "config": _client_config(cities, categories),
        "emergency_number": emergency_number(cities),
    }


@requires(Action.PUBLIC)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters(*SENSITIVE)
def new(request: HttpRequest) -> HttpResponse:
    """The report form; a POST files the report and leads to its tracking page."""
    categories, cities = _categories(), _cities()
    context = _new_context(categories, cities)
    if request.method == "GET":
        initial = {
            "idempotency_key": new_idempotency_key(),
            "anonymous": not request.user.is_authenticated,
            "category": request.GET.get("category", ""),
        }
        form = ReportForm(initial=initial, categories=categories, cities=cities)
        return render(request, "reports/report_new.html", {**context, "form": form})
    limited = _rate_limited(request, "report:create", REPORT_LIMITS)
    if limited is not None:
        return limited
    form = ReportForm(request.POST, request.FILES, categories=categories, cities=cities)
    status = 400
    if form.is_valid():
        report, status = _create(request, form, form.to_input)
        if report is not None:
            return _created_response(request, report, status)
    return _refused_response(request, form, status, "reports/report_new.html", context)


@requires(Action.PUBLIC)
@require_http_methods(["GET", "POST"])
@sensitive_post_parameters(*SENSITIVE)
def sos(request: HttpRequest) -> HttpResponse:
    """The emergency notice first (call the number); then, if confirmed, an SOS with a place."""
    category, cities = _urgent_category(), _cities()
    context = {
        "category": category,
        "emergency_number": emergency_number(cities),
        "config": _client_config(cities),
    }
    if request.method == "GET":
        initial = {"idempotency_key": new_idempotency_key()}
        form = SosForm(initial=initial, cities=cities)
        return render(request, "reports/report_sos.html", {**context, "form": form})
    limited = _rate_limited(request, "report:create", REPORT_LIMITS)
    if limited is not None:
        return limited
    form = SosForm(request.POST, cities=cities)
    status = 400
    if category is None:
        form.add_error(None, _("SOS alerts are not available here: please call the number."))
    elif form.is_valid():
        report, status = _create(request, form, lambda: form.to_input(category))
        if report is not None:
            return _created_response(request, report, status)
    return _refused_response(request, form, status, "reports/report_sos.html", context)


# --- Following a report ------------------------------------------------------------------------


PUBLIC_EVENT_KINDS = (
    ReportEvent.Kind.CREATED,
    ReportEvent.Kind.STATUS,
    ReportEvent.Kind.ASSIGNED,
    ReportEvent.Kind.ROUTED,
    ReportEvent.Kind.REPLY,
    ReportEvent.Kind.CITIZEN,
    ReportEvent.Kind.SUPPORTED,
)


def _follow_context(request: HttpRequest, report: Report) -> dict[str, Any]:
    url = tracking_url(report)
    return {
        "report": report,
        # Public steps only, and only kinds meant for the citizen: never an internal note.
        "events": report.events.filter(public=True, kind__in=PUBLIC_EVENT_KINDS).select_related(
            "institution"
        ),
        "photos": list(report.photos.all()),
        "url": url,
        "qr": qr_svg(url),
        "new": request.GET.get("new") == "1",
        "can_rate": not report.is_open and report.rating is None,
        "answers": list_answers(report),
        "emergency_number": emergency_number([report.city]),
        "config": _queue_config(),
        "incident_status": incident_status_for_report(report),
        "live_seconds": settings.REPORT_LIVE_SECONDS,
    }


def _render_follow(request: HttpRequest, report: Report, status: int = 200, **forms: Any):
    context = _follow_context(request, report)
    context["message_form"] = forms.get("message_form") or MessageForm()
    context["rating_form"] = forms.get("rating_form") or RatingForm()
    response = render(request, "reports/report_follow.html", context, status=status)
    response["X-Robots-Tag"] = "noindex"
    return response


@requires(Action.PUBLIC)
@require_GET
@cache_control(private=True, max_age=0)
def follow(request: HttpRequest, code: str) -> HttpResponse:
    """The report behind a tracking code: its public timeline, photos, reply and rating forms."""
    return _render_follow(request, access_report_by_code(code))


@requires(Action.PUBLIC)
@require_GET
@cache_control(private=True, no_store=True)
def live(request: HttpRequest, code: str) -> HttpResponse:
    """The command centre's response to the report, for the page's live refresh
    (``reports/js/follow.js``): 204 when the version ``v`` the page shows is still current, else
    the section to put in its place."""
    report = access_report_by_code(code)
    status = incident_status_for_report(report)
    if status is None or request.GET.get("v") == status.version:
        return HttpResponse(status=204)
    context = {
        "report": report,
        "incident_status": status,
        "live_seconds": settings.REPORT_LIVE_SECONDS,
    }
    response = render(request, "reports/_incident_status.html", context)
    response["X-Robots-Tag"] = "noindex"
    return response


@requires(Action.PUBLIC)
@require_POST
@sensitive_post_parameters(*SENSITIVE)
def message(request: HttpRequest, code: str) -> HttpResponse:
    """The citizen adds information or answers the institution."""
    limited = _rate_limited(request, "report:message", MESSAGE_LIMITS)
    if limited is not None:
        return limited
    form = MessageForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                report = access_report_by_code(code, for_update=True)
                # An anonymous report stays anonymous: a logged-in writer is not linked to it.
                author = None if report.is_anonymous else request.user
                check_add_citizen_message(report, body=form.cleaned_data["body"], author=author)
        except ActionError as exc:
            form.add_error("body" if exc.field == "body" else None, exc.message)
        else:
            messages.success(request, _("Your message was added to the report."))
            return redirect(reverse("reports:follow", args=[report.tracking_code]) + "#timeline")
    return _render_follow(request, access_report_by_code(code), status=400, message_form=form)


@requires(Action.PUBLIC)
@require_POST
@sensitive_post_parameters(*SENSITIVE)
def rate(request: HttpRequest, code: str) -> HttpResponse:
    """The citizen rates the answer, once the report is closed."""
    form = RatingForm(request.POST)
    if form.is_valid():
        try:
            with transaction.atomic(durable=True):
                report = access_report_by_code(code, for_update=True)
                check_rate_report(
                    report,
                    rating=form.cleaned_data["rating"],
                    comment=form.cleaned_data["comment"],
                )
        except ActionError as exc:
            form.add_error("rating" if exc.field == "rating" else None, exc.message)
        else:
            messages.success(request, _("Thank you for rating the answer."))
            return redirect("reports:follow", code=report.tracking_code)
    return _render_follow(request, access_report_by_code(code), status=400, rating_form=form)


@requires(Action.PUBLIC)
@require_GET
def photo(request: HttpRequest, code: str, photo_id: int) -> HttpResponse:
    """A photo of the report behind ``code``, and only of that report."""
    report = access_report_by_code(code)
    found = report.photos.filter(pk=photo_id).first()
    if found is None:
        raise Http404(_("This report has no such photo."))
    with found.image.open("rb") as handle:  # small (re-encoded, at most 1600 px): read whole
        response = HttpResponse(handle.read(), content_type="image/jpeg")
    response["Cache-Control"] = "private, max-age=86400"
    response["Content-Disposition"] = 'inline; filename="photo.jpg"'
    response["X-Robots-Tag"] = "noindex"
    return response


@requires(Action.PUBLIC)
@require_GET
def track(request: HttpRequest) -> HttpResponse:
    """Type a tracking code (from the SMS, the e-mail or the paper) to open the report."""
    form = TrackForm(request.GET if "code" in request.GET else None)
    if form.is_bound and form.is_valid():
        try:
            report = access_report_by_code(form.cleaned_data["code"])
        except Http404:
            form.add_error("code", _("No report has this tracking code. Check it and try again."))
        else:
            return redirect("reports:follow", code=report.tracking_code)
    return render(request, "reports/report_track.html", {"form": form})


@requires(Action.ACCOUNT_VIEW)
@require_GET
def mine(request: HttpRequest) -> HttpResponse:
    """The reports of the logged-in citizen, and those they said "me too" to."""
    reports = access_own_reports(request.user).order_by("-created_at")
    page = Paginator(reports, PER_PAGE).get_page(request.GET.get("page"))
    return render(request, "reports/report_mine.html", {"page": page})


# --- The installable, offline report page (PWA) ------------------------------------------------


@lru_cache(maxsize=64)
def _file_digest(path: str, mtime: float) -> str:
    with open(path, "rb") as handle:
        return hashlib.sha256(handle.read()).hexdigest()


def _assets_version(urls: list[str]) -> str:
    """Changes whenever an asset does: hashed names in production, file contents in development."""
    digest = hashlib.sha256("\n".join(urls).encode())
    for name in STATIC_ASSETS:
        found = finders.find(name)
        if found:
            digest.update(_file_digest(found, Path(found).stat().st_mtime).encode())
    return digest.hexdigest()[:16]


@requires(Action.PUBLIC)
@require_GET
def service_worker(request: HttpRequest) -> HttpResponse:
    """The service worker, at ``/report/sw.js`` so that its scope is ``/report/``."""
    cities = _cities()
    pages = [reverse(name) for name in SHELL_PAGES]
    assets = [static(name) for name in STATIC_ASSETS] + [
        layer["url"] for layer in _map_layers(cities)
    ]
    context = {
        "pages_json": json.dumps(pages),
        "assets_json": json.dumps(assets),
        "static_prefix": settings.STATIC_URL,
        "version": _assets_version(pages + assets),
    }
    response = render(
        request, "reports/sw.js", context, content_type="text/javascript; charset=utf-8"
    )
    response["Service-Worker-Allowed"] = reverse("reports:new")
    response["Cache-Control"] = "no-cache"
    return response


@requires(Action.PUBLIC)
@require_GET
def manifest(request: HttpRequest) -> HttpResponse:
    """The web app manifest: the report page installs as an app on the phone's home screen."""
    body = {
        "name": _("Convive: report a problem"),
        "short_name": _("Convive"),
        "description": _("Report security and coexistence problems, even without a connection."),
        "lang": request.LANGUAGE_CODE,
        "start_url": reverse("reports:new"),
        "scope": reverse("reports:new"),
        "display": "standalone",
        "background_color": "#ffffff",
        "theme_color": "#0b4f6c",
        "icons": [
            {"src": static("convive/img/icon.svg"), "sizes": "any", "type": "image/svg+xml"},
            {"src": static("reports/img/icon-192.png"), "sizes": "192x192", "type": "image/png"},
            {"src": static("reports/img/icon-512.png"), "sizes": "512x512", "type": "image/png"},
            {
                "src": static("reports/img/icon-maskable-512.png"),
                "sizes": "512x512",
                "type": "image/png",
                "purpose": "maskable",
            },
        ],
    }
    response = JsonResponse(body, content_type="application/manifest+json")
    response["Cache-Control"] = "no-cache"
    return response
