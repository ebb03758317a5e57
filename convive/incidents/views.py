"""The command centre's pages: the live console, the call-taking form and an incident in full.

Every write is one POST to its own URL: parse the form, lock the incident through
``access_incident_by_id``, call one ``check_*`` action inside ``transaction.atomic``, and go
back to the incident with a message. A refusal (``ActionError``) shows the incident again with
the form, its text kept and the message next to the field, with the action's 4xx status; a
stale version (409) says that someone else changed it and shows the incident as it is now.

The incident page follows the incident by itself (``detail_live``, ``incident_live.js``): on
the console's websocket events, or by polling with an ``ETag`` while the socket is down.
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Callable
from typing import Any

from django import forms
from django.conf import settings
from django.contrib import messages
from django.db import transaction
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils import timezone
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods, require_POST

from convive.accounts.permissions import Action, is_allowed, requires
from convive.core.errors import ActionError
from convive.incidents import actions
from convive.incidents.access import access_incident_by_id, incidents_for
from convive.incidents.actions import VersionConflictError
from convive.incidents.forms import (
    CallForm,
    CloseForm,
    DispatchForm,
    DuplicatesQuery,
    LinkForm,
    NoteForm,
    PlacesQuery,
    PriorityForm,
    ReferralForm,
    ReopenForm,
    SinceQuery,
    TransferForm,
)
from convive.incidents.models import Incident, IncidentType
from convive.incidents.places import search_places
from convive.incidents.queries import (
    learned_travel_speeds,
    list_open_incidents,
    list_timeline,
    nearby_open_duplicates,
)
from convive.institutions.models import Institution
from convive.justice.models import JusticeService
from convive.territories.models import City, Layer
from convive.units.access import access_unit_by_id, may_see_unit, visible_units
from convive.units.actions import UnitConflictError
from convive.units.models import Unit
from convive.units.queries import recommend_units

MAP_SIMPLIFY = 0.0005  # degrees (~50 m), as the citizen's report map
QUEUE_LIMIT = 200
POLL_SECONDS = 10
CONSOLE_SOCKET = "/ws/console/"
# The incident page refreshes itself on the console's websocket events; while the socket is down
# it asks ``detail_live`` this often instead (a test may lower it).
LIVE_POLL_SECONDS = 10


# --- Helpers ---------------------------------------------------------------------------------


def user_city(user: Any) -> City | None:
    """The city whose command centre ``user`` works in (a platform administrator: the first)."""
    for membership in user.active_memberships:
        if membership.institution_id is not None:
            return membership.institution.city
    return City.objects.order_by("pk").first()


def _map_layers(city: City | None) -> list[dict[str, str]]:
    """The city's localities (or its first layer) as GeoJSON URLs, drawn without tiles."""
    if city is None:
        return []
    layers = list(Layer.objects.filter(city=city).order_by("pk"))
    chosen = next((layer for layer in layers if layer.kind == Layer.Kind.LOCALITY), None)
    chosen = chosen or (layers[0] if layers else None)
    if chosen is None:
        return []
    return [
        {
            "url": reverse("api:territories_layer", args=[city.slug, chosen.slug])
            + f"?simplify={MAP_SIMPLIFY}",
            "locate": reverse("api:territories_locate", args=[city.slug]),
        }
    ]


def _map_config(city: City | None) -> dict[str, Any]:
    tiles = None
    if settings.MAP_TILE_URL:
        tiles = {"url": settings.MAP_TILE_URL, "attribution": settings.MAP_TILE_ATTRIBUTION}
    return {
        "layers": _map_layers(city),
        "tiles": tiles,
        "icon": {
            "url": static("vendor/leaflet/images/marker-icon.png"),
            "retina": static("vendor/leaflet/images/marker-icon-2x.png"),
            "shadow": static("vendor/leaflet/images/marker-shadow.png"),
        },
    }


def incident_row(incident: Incident) -> dict[str, Any]:
    """One incident as the console's queue and map show it (queue.json and the page alike)."""
    place = incident.address
    if incident.locality is not None:
        place = f"{place} · {incident.locality.name}" if place else incident.locality.name
    return {
        "incident_id": incident.pk,
        "reference": incident.reference,
        "version": incident.version,
        "status": incident.status,
        "status_label": str(incident.get_status_display()),
        "priority": incident.priority,
        "type_name": incident.type.name,
        "place": place,
        "summary": incident.summary,
        "lon": incident.lon,
        "lat": incident.lat,
        "open": incident.is_open,
        "created_at": incident.created_at.isoformat(),
        "updated_at": incident.updated_at.isoformat(),
        "url": reverse("console:detail", args=[incident.pk]),
    }


def unit_row(unit: Unit) -> dict[str, Any]:
    return {
        "unit_id": unit.pk,
        "call_sign": unit.call_sign,
        "status": unit.status,
        "status_label": str(unit.get_status_display()),
        "version": unit.version,
        "lon": unit.last_lon,
        "lat": unit.last_lat,
        "current_load": unit.current_load,
        "institution": unit.institution.name,
    }


def units_on_board(user: Any, city: City | None) -> list[Unit]:
    """The city's active units that ``user`` reaches, by institution and call sign."""
    if city is None or not is_allowed(user, Action.UNIT_VIEW):
        return []
    units = visible_units(user).filter(institution__city=city, active=True)
    return list(units.order_by("institution__name", "call_sign"))


def _console_texts() -> dict[str, str]:
    return {
        "live": _("Live"),
        "offline": _("Reconnecting… the queue refreshes every 10 s meanwhile."),
        "polling": _("Refreshing every 10 s."),
        "empty": _("No open incidents."),
        "duplicates": _("Possible duplicates nearby (same type, open):"),
        "places": _("Known places"),
        "place_area": _("The centre of that area: click the map where it happens to be precise."),
        "link": _("Link to this one"),
        "linked": _("This call will be added to %(reference)s."),
        "unlink": _("No, it is a new incident"),
        "in": _("Place: %(name)s"),
        "outside": _("This point is outside the city."),
        "pin": _("Point marked on the map."),
        "status": {value: str(label) for value, label in Incident.Status.choices},
        "unit_status": {value: str(label) for value, label in Unit.Status.choices},
    }


def _has_console_socket() -> bool:
    """Whether the site routes the console's websocket (else the page polls queue.json)."""
    from convive.routing import websocket_urlpatterns

    return any(CONSOLE_SOCKET.strip("/") in str(p.pattern) for p in websocket_urlpatterns)


# --- The console -----------------------------------------------------------------------------


@requires(Action.INCIDENT_VIEW)
@require_GET
def console(request: HttpRequest) -> HttpResponse:
    city = user_city(request.user)
    incidents = list(list_open_incidents(incidents_for(request.user))[:QUEUE_LIMIT])
    units = units_on_board(request.user, city)
    config = {
        **_map_config(city),
        "queue": reverse("console:queue"),
        "websocket": CONSOLE_SOCKET if _has_console_socket() else None,
        "detail": reverse("console:detail", args=[0]),
        "poll_seconds": POLL_SECONDS,
        "new_call": reverse("console:call"),
        "incidents": [incident_row(i) for i in incidents],
        "units": [unit_row(u) for u in units],
        "now": timezone.now().isoformat(),
        "text": _console_texts(),
    }
    context = {"incidents": incidents, "units": units, "config": config}
    return render(request, "incidents/console.html", context)


@requires(Action.INCIDENT_VIEW)
@require_GET
def queue_json(request: HttpRequest) -> JsonResponse:
    """The open queue, or (``?since=``) every visible incident changed after that time, closed
    ones included so that a console drops them: what a console that reconnects catches up with."""
    query = SinceQuery(request.GET)
    if not query.is_valid():
        return JsonResponse(
            {"ok": False, "error": _("“since” must be a date and time.")}, status=400
        )
    since = query.cleaned_data["since"]
    incidents = incidents_for(request.user)
    if since is None:
        incidents = list_open_incidents(incidents)
    else:
        incidents = incidents.filter(updated_at__gt=since).order_by("priority", "created_at")
    rows = [incident_row(i) for i in incidents[:QUEUE_LIMIT]]
    units = [unit_row(u) for u in units_on_board(request.user, user_city(request.user))]
    return JsonResponse(
        {"data": rows, "count": len(rows), "units": units, "now": timezone.now().isoformat()}
    )


# --- Taking a call -----------------------------------------------------------------------------


def _types() -> list[IncidentType]:
    return list(IncidentType.objects.filter(active=True).order_by("order", "name_es"))


def _render_call(request: HttpRequest, form: CallForm, *, status: int = 200) -> HttpResponse:
    city = user_city(request.user)
    types = form.types
    config = {
        **_map_config(city),
        "duplicates": reverse("console:duplicates"),
        "places": reverse("console:places"),
        "types": [{"code": t.code, "name": t.name, "priority": t.default_priority} for t in types],
        "text": _console_texts(),
    }
    protocol = [
        {
            "type": t,
            "questions": [
                {
                    "label": q["question"],
                    "name": f"answer-{t.code}-{q['code']}",
                    "value": form.data.get(f"answer-{t.code}-{q['code']}", ""),
                }
                for q in t.questions()
            ],
        }
        for t in types
        if t.protocol
    ]
    context = {"form": form, "config": config, "protocol": protocol}
    return render(request, "incidents/call_form.html", context, status=status)


@requires(Action.INCIDENT_CREATE)
@require_http_methods(["GET", "POST"])
def call(request: HttpRequest) -> HttpResponse:
    types = _types()
    if request.method == "GET":
        now = timezone.now().isoformat()
        form = CallForm(types=types, initial={"received_at": now, "answered_at": now})
        return _render_call(request, form)
    form = CallForm(request.POST, types=types)
    if not form.is_valid():
        return _render_call(request, form, status=400)
    data = form.cleaned_data
    city = user_city(request.user)
    if city is None:
        form.add_error(None, _("There is no city to take calls for yet."))
        return _render_call(request, form, status=409)
    try:
        with transaction.atomic(durable=True):
            incident = actions.check_create_incident_from_call(
                request.user,
                city=city,
                type_code=data["type"],
                lon=data["lon"],
                lat=data["lat"],
                address=data["address"],
                summary=data["summary"],
                caller_name=data["caller_name"],
                caller_phone=data["caller_phone"],
                received_at=data["received_at"],
                answered_at=data["answered_at"],
                protocol_answers=form.protocol_answers(),
            )
            if data["duplicate_of"]:
                incident = _merge_call(request, incident, data["duplicate_of"])
    except ActionError as exc:
        form.add_error(_form_field(form, exc.field), exc.message)
        return _render_call(request, form, status=exc.status)
    messages.success(
        request, _("Incident %(reference)s created.") % {"reference": incident.reference}
    )
    return redirect("console:detail", incident_id=incident.pk)


def _merge_call(request: HttpRequest, new: Incident, duplicate_of: int) -> Incident:
    """The call-taker chose "link to this one": the new call's incident is merged into it, so
    the call stays a source of the existing incident with its own timeline."""
    existing = access_incident_by_id(request.user, duplicate_of, for_update=True)
    reason = _("Same event, reported by another call.")
    versions = {new.pk: new.version, existing.pk: existing.version}
    return actions.check_merge_incident(
        request.user, new, existing, reason=reason, expected_versions=versions
    )


def _form_field(form: forms.Form, field: str | None) -> str | None:
    aliases = {"location": "address", "expected_version": None, "expected_versions": None}
    field = aliases.get(field, field) if field else None
    return field if field in form.fields else None


@requires(Action.INCIDENT_CREATE)
@require_GET
def duplicates_json(request: HttpRequest) -> JsonResponse:
    """Open incidents of the same type near a point: what the call form offers to link to."""
    query = DuplicatesQuery(request.GET)
    if not query.is_valid():
        return JsonResponse({"ok": False, "errors": query.errors}, status=400)
    kind = IncidentType.objects.filter(code=query.cleaned_data["type"], active=True).first()
    city = user_city(request.user)
    if kind is None or city is None:
        return JsonResponse({"data": [], "count": 0})
    found = nearby_open_duplicates(
        city=city, incident_type=kind, lon=query.cleaned_data["lon"], lat=query.cleaned_data["lat"]
    )
    visible = set(
        incidents_for(request.user)
        .filter(pk__in=[i.pk for i in found])
        .values_list("pk", flat=True)
    )
    rows = [incident_row(i) for i in found if i.pk in visible]
    return JsonResponse({"data": rows, "count": len(rows)})


@requires(Action.INCIDENT_CREATE)
@require_GET
def places_json(request: HttpRequest) -> JsonResponse:
    """Known places of the call-taker's city whose name starts like ``q`` (the type-ahead)."""
    query = PlacesQuery(request.GET)
    if not query.is_valid():
        return JsonResponse({"ok": False, "errors": query.errors}, status=400)
    city = user_city(request.user)
    found = [] if city is None else search_places(city, query.cleaned_data["q"])
    rows = [
        {
            "name": place.name,
            "detail": place.detail,
            "kind": place.kind,
            "lon": place.lon,
            "lat": place.lat,
            "precise": place.precise,
            # What goes into the address field: a service's own address says where exactly.
            "address": (f"{place.name}, {place.address}" if place.address else place.name)[:300],
        }
        for place in found
    ]
    return JsonResponse({"data": rows, "count": len(rows)})


# --- An incident -------------------------------------------------------------------------------


def _recommendations(user: Any, incident: Incident) -> list[dict[str, Any]]:
    """The top 5 suitable units the user may send, with the reasons and the ETA in minutes."""
    if incident.lon is None or not incident.is_open or not is_allowed(user, Action.UNIT_VIEW):
        return []
    found = recommend_units(
        incident.city,
        lon=incident.lon,
        lat=incident.lat,
        capabilities=incident.type.required_capabilities,
        k=5,
        speeds=learned_travel_speeds(incident.city),
    )
    return [
        {
            "unit": r.unit,
            "reasons": r.reasons,
            "eta_minutes": max(1, round(r.eta_seconds / 60)),
        }
        for r in found
        if may_see_unit(user, r.unit)
    ]


def _assignments(incident: Incident) -> list[Any]:
    """The units sent to the incident, with their progress."""
    return list(incident.assignments.select_related("unit").order_by("dispatched_at", "pk"))


def _action_forms(user: Any, incident: Incident) -> dict[str, forms.Form]:
    version = {"version": incident.version}
    found: dict[str, forms.Form] = {}
    if not is_allowed(user, Action.INCIDENT_HANDLE):
        return found
    found["note"] = NoteForm(prefix="note")
    if incident.is_open:
        found["priority"] = PriorityForm(prefix="priority", initial=version)
        found["close"] = CloseForm(prefix="close", initial=version)
    services = JusticeService.objects.filter(city_id=incident.city_id).order_by("name")
    found["referral"] = ReferralForm(prefix="referral", services=list(services))
    if is_allowed(user, Action.INCIDENT_SUPERVISE):
        if incident.is_open:
            institutions = Institution.objects.filter(city_id=incident.city_id, active=True)
            institutions = institutions.exclude(pk=incident.institution_id).order_by("name")
            found["transfer"] = TransferForm(
                prefix="transfer", institutions=list(institutions), initial=version
            )
            found["link"] = LinkForm(prefix="link", initial=version)
        elif incident.merged_into_id is None:
            found["reopen"] = ReopenForm(prefix="reopen", initial=version)
    return found


def _units_context(user: Any, incident: Incident) -> dict[str, Any]:
    """The units sent to ``incident`` and those recommended: what, with its version, decides
    whether the page is still current (``_live_etag``)."""
    return {
        "assignments": _assignments(incident),
        "recommendations": _recommendations(user, incident),
    }


def _detail_context(
    user: Any, incident: Incident, units: dict[str, Any] | None = None
) -> dict[str, Any]:
    """What the incident page shows of ``incident``: the whole page and its live refresh alike
    (``units``: ``_units_context``, when the caller has it already)."""
    can_dispatch = is_allowed(user, Action.UNIT_DISPATCH)
    return {
        "incident": incident,
        **(units if units is not None else _units_context(user, incident)),
        "sources": list(incident.sources.select_related("report").order_by("received_at")),
        "timeline": list(list_timeline(incident)),
        "can_dispatch": can_dispatch and incident.is_open,
        "forms": _action_forms(user, incident),
        "answers": _answers(incident),
    }


def _live_etag(incident: Incident, units: dict[str, Any]) -> str:
    """A tag that changes whenever the refreshed parts of the page would (``detail_live``).

    Not a hash of the HTML, which differs on every render (CSRF tokens): the incident's version
    covers its facts, sources, timeline and which forms apply (they follow its status); the
    units and the recommendations add their versions, progress, estimates and reasons. Cheap
    enough to answer a poll without rendering. It opens with the incident's version
    (``_tagged_version``)."""
    state = [
        get_language(),
        incident.version,
        [
            (a.pk, a.unit_id, a.unit.version, a.unit.status, a.en_route_at, a.on_scene_at)
            for a in units["assignments"]
        ],
        [
            (r["unit"].pk, r["unit"].version, r["eta_minutes"], r["reasons"])
            for r in units["recommendations"]
        ],
    ]
    digest = hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()[:20]
    return f'"{incident.version}-{digest}"'


def _tagged_version(etag: str) -> int | None:
    """The incident version an ``ETag`` of ``_live_etag`` was made for (None if not one)."""
    head = etag.removeprefix("W/").strip('"').split("-", 1)[0]
    return int(head) if head.isdigit() else None


def _live_config(context: dict[str, Any]) -> dict[str, Any]:
    """How the page keeps itself current (``incidents/js/incident_live.js``), and its words."""
    incident = context["incident"]
    seconds = LIVE_POLL_SECONDS
    return {
        "url": reverse("console:detail_live", args=[incident.pk]),
        "websocket": CONSOLE_SOCKET if _has_console_socket() else None,
        "poll_seconds": seconds,
        "incident_id": incident.pk,
        "version": incident.version,
        "etag": _live_etag(incident, context),
        "text": {
            "live": _("Live"),
            "polling": _("Updates every %(seconds)d s.") % {"seconds": seconds},
            "updated": _("The incident changed: the page shows it as it is now."),
            "gone": _("This incident is no longer available to you. Reload the page."),
            "kept": _(
                "This incident changed while you were writing. Your text is kept; check the "
                "changes before sending it."
            ),
            "kept_version": _(
                "This incident changed while you were writing, and this form is for the "
                "earlier version: sending it would be refused. Check the changes and copy your "
                "text before reloading."
            ),
            "reload": _("Reload the page"),
        },
    }


def _render_detail(
    request: HttpRequest,
    incident_id: int,
    *,
    bound: forms.Form | None = None,
    status: int = 200,
) -> HttpResponse:
    with transaction.atomic(durable=True):
        incident = access_incident_by_id(request.user, incident_id)
        actions.do_record_incident_view(request.user, incident)
    context = _detail_context(request.user, incident)
    live = _live_config(context)
    action_forms = context["forms"]
    if bound is not None:
        if bound.prefix in action_forms:
            action_forms[bound.prefix] = bound
        else:
            for errors in bound.errors.values():
                for error in errors:
                    messages.error(request, error)
    context.update(
        {
            "open_form": bound.prefix if bound is not None else "",
            "config": {**_map_config(incident.city), "point": _point(incident), "live": live},
        }
    )
    return render(request, "incidents/incident_detail.html", context, status=status)


def _point(incident: Incident) -> dict[str, float] | None:
    return None if incident.lon is None else {"lon": incident.lon, "lat": incident.lat}


def _answers(incident: Incident) -> list[tuple[str, str]]:
    questions = {q["code"]: q["question"] for q in incident.type.questions()}
    return [
        (questions.get(code, code), answer) for code, answer in incident.protocol_answers.items()
    ]


@requires(Action.INCIDENT_VIEW)
@require_GET
def detail(request: HttpRequest, incident_id: int) -> HttpResponse:
    return _render_detail(request, incident_id)


@requires(Action.INCIDENT_VIEW)
@require_GET
def detail_live(request: HttpRequest, incident_id: int) -> HttpResponse:
    """The read-only parts of the incident page and its action forms, for the page's refresh
    (``incidents/js/incident_live.js``): 304 without a body while ``If-None-Match`` holds the
    current ``ETag``, else the parts to put in place (``incidents/incident_live.html``).

    The same check as the page (``access_incident_by_id``, 404 otherwise). A refresh that brings
    a new version of the incident is audited as opening it is; one where only the recommended
    units moved is not (the version in the tag the page sent is still current)."""
    incident = access_incident_by_id(request.user, incident_id)
    units = _units_context(request.user, incident)
    etag = _live_etag(incident, units)
    seen = request.headers.get("If-None-Match", "")
    if seen == etag:
        response = HttpResponse(status=304)
    else:
        if _tagged_version(seen) != incident.version:
            with transaction.atomic(durable=True):
                actions.do_record_incident_view(request.user, incident)
        context = _detail_context(request.user, incident, units)
        response = render(request, "incidents/incident_live.html", context)
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    return response


def _act(
    request: HttpRequest,
    incident_id: int,
    form: forms.Form,
    act: Callable[[Incident, dict], str],
) -> HttpResponse:
    """Run one action on the locked incident; ``act`` returns the message of success."""
    if not form.is_valid():
        return _render_detail(request, incident_id, bound=form, status=400)
    try:
        with transaction.atomic(durable=True):
            incident = access_incident_by_id(request.user, incident_id, for_update=True)
            done = act(incident, form.cleaned_data)
    except (VersionConflictError, UnitConflictError) as exc:
        # The page was stale: show the incident as it is now, and say why nothing happened.
        messages.error(request, _("Someone else changed it.") + " " + exc.message)
        return _render_detail(request, incident_id, status=409)
    except ActionError as exc:
        form.add_error(_form_field(form, exc.field), exc.message)
        return _render_detail(request, incident_id, bound=form, status=exc.status)
    messages.success(request, done)
    return redirect("console:detail", incident_id=incident_id)


@requires(Action.INCIDENT_HANDLE)
@require_POST
def change_priority(request: HttpRequest, incident_id: int) -> HttpResponse:
    def act(incident: Incident, data: dict) -> str:
        actions.check_change_priority(
            request.user,
            incident,
            priority=data["priority"],
            reason=data["reason"],
            expected_version=data["version"],
        )
        return _("Priority changed.")

    return _act(request, incident_id, PriorityForm(request.POST, prefix="priority"), act)


@requires(Action.INCIDENT_HANDLE)
@require_POST
def note(request: HttpRequest, incident_id: int) -> HttpResponse:
    def act(incident: Incident, data: dict) -> str:
        actions.check_add_note(request.user, incident, body=data["body"])
        return _("Note added.")

    return _act(request, incident_id, NoteForm(request.POST, prefix="note"), act)


@requires(Action.INCIDENT_SUPERVISE)
@require_POST
def transfer(request: HttpRequest, incident_id: int) -> HttpResponse:
    institutions = list(Institution.objects.filter(active=True))
    form = TransferForm(request.POST, prefix="transfer", institutions=institutions)

    def act(incident: Incident, data: dict) -> str:
        to = next(i for i in institutions if i.pk == data["to_institution"])
        actions.check_transfer(
            request.user,
            incident,
            to_institution=to,
            reason=data["reason"],
            expected_version=data["version"],
        )
        return _("Handed over to %(institution)s.") % {"institution": to.name}

    return _act(request, incident_id, form, act)


@requires(Action.INCIDENT_HANDLE)
@require_POST
def close(request: HttpRequest, incident_id: int) -> HttpResponse:
    def act(incident: Incident, data: dict) -> str:
        actions.check_close(
            request.user, incident, outcome=data["outcome"], expected_version=data["version"]
        )
        return _("Incident closed.")

    return _act(request, incident_id, CloseForm(request.POST, prefix="close"), act)


@requires(Action.INCIDENT_SUPERVISE)
@require_POST
def reopen(request: HttpRequest, incident_id: int) -> HttpResponse:
    def act(incident: Incident, data: dict) -> str:
        actions.check_reopen(
            request.user, incident, reason=data["reason"], expected_version=data["version"]
        )
        return _("Incident reopened.")

    return _act(request, incident_id, ReopenForm(request.POST, prefix="reopen"), act)


@requires(Action.INCIDENT_SUPERVISE)
@require_POST
def link(request: HttpRequest, incident_id: int) -> HttpResponse:
    def act(incident: Incident, data: dict) -> str:
        other = access_incident_by_id(request.user, data["reference"], for_update=True)
        versions = {incident.pk: data["version"], other.pk: other.version}
        if data["mode"] == "merge":
            actions.check_merge_incident(
                request.user, incident, other, reason=data["reason"], expected_versions=versions
            )
            return _("Merged into %(reference)s.") % {"reference": other.reference}
        actions.check_link_incidents(
            request.user, incident, other, reason=data["reason"], expected_versions=versions
        )
        return _("Linked with %(reference)s.") % {"reference": other.reference}

    return _act(request, incident_id, LinkForm(request.POST, prefix="link"), act)


@requires(Action.INCIDENT_HANDLE)
@require_POST
def referral(request: HttpRequest, incident_id: int) -> HttpResponse:
    services = list(JusticeService.objects.all())
    form = ReferralForm(request.POST, prefix="referral", services=services)

    def act(incident: Incident, data: dict) -> str:
        service = next(s for s in services if s.pk == data["service"])
        actions.check_record_referral(
            request.user,
            incident,
            service=service,
            consent_given=data["consent_given"],
            consent_note=data["consent_note"],
        )
        return _("Victim referred to %(service)s.") % {"service": service.name}

    return _act(request, incident_id, form, act)


@requires(Action.UNIT_DISPATCH)
@require_POST
def dispatch(request: HttpRequest, incident_id: int) -> HttpResponse:
    """Send a recommended unit, with the versions of incident and unit the page showed."""
    form = DispatchForm(request.POST, prefix="dispatch")

    def act(incident: Incident, data: dict) -> str:
        unit = access_unit_by_id(request.user, data["unit"], for_update=True)
        actions.check_dispatch_unit(
            request.user,
            incident,
            unit,
            expected_incident_version=data["version"],
            expected_unit_version=data["unit_version"],
        )
        return _("%(call_sign)s dispatched.") % {"call_sign": unit.call_sign}

    return _act(request, incident_id, form, act)
