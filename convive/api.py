"""The one JSON API: a NinjaAPI mounting one router per app, OpenAPI at ``/api/docs``.

Errors share one envelope: ``{"ok": false, "error": "...", "errors": [...], "status": 4xx}``.
Every operation declares its permission in ``openapi_extra={"x-permission": ...}``.
"""

from django.core.exceptions import PermissionDenied, RequestDataTooBig
from django.http import Http404, HttpRequest, HttpResponse
from django.utils.translation import gettext as _
from ninja import NinjaAPI
from ninja.errors import AuthenticationError, ValidationError
from ninja.security import django_auth

from convive.core.errors import ActionError

api = NinjaAPI(
    title="Convive API",
    version="1",
    description="Convive: citizen security, coexistence and justice. Conventions: docs/api.md.",
    docs_url="/docs",
    urls_namespace="api",
)


def error_response(request: HttpRequest, status: int, message: str, errors: list | None = None):
    body = {"ok": False, "error": message, "errors": errors or [], "status": status}
    return api.create_response(request, body, status=status)


@api.exception_handler(ActionError)
def on_action_error(request: HttpRequest, exc: ActionError) -> HttpResponse:
    errors = [{"field": exc.field, "message": exc.message}] if exc.field else []
    response = error_response(request, exc.status, exc.message, errors)
    if getattr(exc, "retry_after", 0):  # RateLimitError: tell the client when to come back
        response["Retry-After"] = str(exc.retry_after)
    return response


@api.exception_handler(ValidationError)
def on_validation_error(request: HttpRequest, exc: ValidationError) -> HttpResponse:
    errors = [
        {"field": ".".join(str(p) for p in e.get("loc", [])), "message": e.get("msg", "")}
        for e in exc.errors
    ]
    return error_response(request, 422, _("The request is not valid."), errors)


@api.exception_handler(AuthenticationError)
def on_unauthenticated(request: HttpRequest, exc: AuthenticationError) -> HttpResponse:
    return error_response(request, 401, _("Log in to use this endpoint."))


@api.exception_handler(PermissionDenied)
def on_forbidden(request: HttpRequest, exc: PermissionDenied) -> HttpResponse:
    return error_response(request, 403, _("You do not have permission to do this."))


@api.exception_handler(RequestDataTooBig)
def on_too_large(request: HttpRequest, exc: RequestDataTooBig) -> HttpResponse:
    return error_response(request, 413, _("The request is too large."))


@api.exception_handler(Http404)
def on_not_found(request: HttpRequest, exc: Http404) -> HttpResponse:
    return error_response(request, 404, str(exc) or _("Not found."))


AUTH = django_auth  # session cookie + CSRF, for the site's own pages and the app

from convive.accounts.api import router as accounts_router  # noqa: E402
from convive.core.api import router as audit_router  # noqa: E402
from convive.incidents.api import router as incidents_router  # noqa: E402
from convive.reports.api import router as reports_router  # noqa: E402
from convive.territories.api import router as territories_router  # noqa: E402
from convive.units.api import router as units_router  # noqa: E402

api.add_router("/v1/territories", territories_router)
api.add_router("/v1/me", accounts_router)
api.add_router("/v1/audit", audit_router)
api.add_router("/v1/reports", reports_router)
api.add_router("/v1/incidents", incidents_router)
api.add_router("/v1/units", units_router)
