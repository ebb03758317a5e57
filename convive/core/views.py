from django.db import connection
from django.http import HttpRequest, HttpResponse, HttpResponsePermanentRedirect, JsonResponse
from django.shortcuts import render
from django.templatetags.static import static
from django.views.decorators.http import require_GET

from convive.accounts.permissions import Action, requires
from convive.accounts.queries import role_areas


@requires(Action.PUBLIC)
@require_GET
def home(request: HttpRequest) -> HttpResponse:
    return render(request, "core/home.html", {"areas": role_areas(request.user)})


@requires(Action.PUBLIC)
@require_GET
def privacy(request: HttpRequest) -> HttpResponse:
    return render(request, "core/privacy.html")


@requires(Action.PUBLIC)
@require_GET
def healthz(request: HttpRequest) -> HttpResponse:
    """For load balancers: the process answers and the database takes a query."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return JsonResponse({"ok": True})


@requires(Action.PUBLIC)
@require_GET
def favicon(request: HttpRequest) -> HttpResponse:
    """Browsers ask for /favicon.ico on pages that name no icon (the admin site's)."""
    return HttpResponsePermanentRedirect(static("convive/img/icon.svg"))
