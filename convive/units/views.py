"""The field-unit page: on a phone, the unit a person crews, its incident and big status buttons.

A crew member reaches only the units they crew (``Unit.crew``), and through them the incident
their unit was sent to: the page shows nothing else of the command centre. Of that incident the
crew sees what the centre tells them (its notes, priority, other units sent, the hand-over, the
closure: ``convive.incidents.queries.list_field_updates``), and for an hour that the centre
closed their last one. Each button is one POST: lock the unit, call one action, go back to the
page with a message; a stale page (the dispatcher changed the unit meanwhile) gets a 409 with
the unit as it is now.

The phone follows its units without a reload (``units/js/field.js``): every ``FIELD_POLL_SECONDS``
while the page is visible it asks ``field_live`` with the ``ETag`` it holds, answered 304 with
no body while nothing changed. Field units get no websocket (the console's is for command-centre
staff), and a poll this small suits a phone on a poor connection.
"""

from __future__ import annotations

import hashlib
import json
from typing import Any

from django import forms
from django.contrib import messages
from django.db import transaction
from django.http import Http404, HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import redirect, render
from django.template.loader import render_to_string
from django.urls import reverse
from django.utils.cache import patch_cache_control
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from convive.accounts.permissions import Action, requires
from convive.core.errors import ActionError
from convive.incidents import actions as incident_actions
from convive.incidents.models import Incident
from convive.incidents.queries import last_closed_assignment, list_field_updates
from convive.units import actions
from convive.units.models import Unit

FIELD_POLL_SECONDS = 15  # how often the phone asks whether its units changed (a test may lower it)

STEPS = (
    ("en_route", gettext_lazy("En route")),
    ("on_scene", gettext_lazy("On scene")),
    ("cleared", gettext_lazy("Cleared")),
)


class ProgressForm(forms.Form):
    step = forms.ChoiceField(choices=STEPS)
    unit_version = forms.IntegerField(min_value=1)


class StatusForm(forms.Form):
    status = forms.ChoiceField(
        choices=[(Unit.Status.AVAILABLE, ""), (Unit.Status.OUT_OF_SERVICE, "")]
    )
    unit_version = forms.IntegerField(min_value=1)
    reason = forms.CharField(max_length=500, required=False)


def _crewed(user: Any, *, for_update: bool = False) -> Any:
    units = user.crewed_units.filter(active=True).select_related("institution")
    return units.select_for_update(of=("self",)) if for_update else units


def _crewed_unit(user: Any, unit_id: int) -> Unit:
    """A unit ``user`` crews, locked; 404 for any other (as for a unit that does not exist)."""
    unit = _crewed(user, for_update=True).filter(pk=unit_id).first()
    if unit is None:
        raise Http404(_("Unit not found."))
    return unit


def current_assignment(unit: Unit) -> Any:
    """The unit's assignment that it has not cleared yet (a closed incident's included), or None."""
    return (
        unit.assignments.filter(cleared_at__isnull=True)
        .select_related("incident", "incident__type", "incident__locality", "incident__institution")
        .order_by("-dispatched_at")
        .first()
    )


def _next_steps(assignment: Any) -> set[str]:
    if assignment is None:
        return set()
    if assignment.on_scene_at is not None:
        return {"cleared"}
    if assignment.en_route_at is not None:
        return {"on_scene", "cleared"}
    return {"en_route", "on_scene", "cleared"}


def _crews(user: Any) -> list[dict[str, Any]]:
    """The units ``user`` crews, each with what the page shows of it."""
    crews = []
    for unit in _crewed(user):
        assignment = current_assignment(unit)
        incident = assignment.incident if assignment is not None else None
        if incident is not None:
            updates, closed = list_field_updates(incident, unit_id=unit.pk), None
        else:
            updates, closed = [], last_closed_assignment(unit.pk)
        crews.append(
            {
                "unit": unit,
                "assignment": assignment,
                "incident": incident,
                "updates": updates,
                "closed": closed,
                "steps": [(code, label, code in _next_steps(assignment)) for code, label in STEPS],
            }
        )
    return crews


def _assignment_state(assignment: Any) -> list[Any] | None:
    if assignment is None:
        return None
    incident = assignment.incident
    return [
        assignment.pk,
        incident.pk,
        incident.version,
        assignment.en_route_at,
        assignment.on_scene_at,
    ]


def _field_etag(crews: list[dict[str, Any]]) -> str:
    """A tag that changes whenever the page would: the units' versions and the versions of the
    incidents they are on (each note, transfer or closure bumps it), in the page's language."""
    state = [get_language()] + [
        [
            crew["unit"].pk,
            crew["unit"].version,
            crew["unit"].status,
            crew["unit"].call_sign,
            _assignment_state(crew["assignment"]),
            _assignment_state(crew["closed"]),
        ]
        for crew in crews
    ]
    digest = hashlib.sha256(json.dumps(state, default=str).encode()).hexdigest()[:20]
    return f'"{digest}"'


def _crew_row(crew: dict[str, Any]) -> dict[str, Any]:
    unit, incident = crew["unit"], crew["incident"]
    return {
        "unit_id": unit.pk,
        "call_sign": unit.call_sign,
        "status": unit.status,
        "version": unit.version,
        "incident": None
        if incident is None
        else {
            "incident_id": incident.pk,
            "reference": incident.reference,
            "status": incident.status,
            "version": incident.version,
        },
    }


def _render_field(request: HttpRequest, *, status: int = 200) -> HttpResponse:
    crews = _crews(request.user)
    context = {
        "crews": crews,
        "etag": _field_etag(crews),
        "live_url": reverse("units:field_live"),
        "poll_seconds": FIELD_POLL_SECONDS,
    }
    return render(request, "units/field.html", context, status=status)


@requires(Action.FIELD_UNIT_PAGE)
@require_GET
def field(request: HttpRequest) -> HttpResponse:
    return _render_field(request)


@requires(Action.FIELD_UNIT_PAGE)
@require_GET
def field_live(request: HttpRequest) -> HttpResponse:
    """The crew's units for the phone's refresh: 304 without a body while ``If-None-Match``
    holds the current ``ETag``; otherwise ``{"units": [...], "html": ...}``, the units with the
    incident each is on (only those the person crews, as the page) and the page's part to put
    in place (``units/_field_crews.html``)."""
    crews = _crews(request.user)
    etag = _field_etag(crews)
    if request.headers.get("If-None-Match", "") == etag:
        response = HttpResponse(status=304)
    else:
        html = render_to_string("units/_field_crews.html", {"crews": crews}, request=request)
        response = JsonResponse({"units": [_crew_row(crew) for crew in crews], "html": html})
    response["ETag"] = etag
    patch_cache_control(response, private=True, no_cache=True)
    return response


def _act(request: HttpRequest, form: forms.Form, act: Any) -> HttpResponse:
    if not form.is_valid():
        messages.error(request, _("Press one of the buttons of the page."))
        return _render_field(request, status=400)
    try:
        with transaction.atomic(durable=True):
            done = act(form.cleaned_data)
    except ActionError as exc:
        prefix = _("Someone else changed it.") + " " if exc.status == 409 else ""
        messages.error(request, prefix + exc.message)
        return _render_field(request, status=exc.status)
    messages.success(request, done)
    return redirect("units:field")


@requires(Action.FIELD_UNIT_PAGE)
@require_POST
def progress(request: HttpRequest, unit_id: int) -> HttpResponse:
    """En route, on scene, cleared: the unit's progress on the incident it was sent to."""

    def act(data: dict) -> str:
        seen = _crewed(request.user).filter(pk=unit_id).first()
        if seen is None:
            raise Http404(_("Unit not found."))
        assignment = current_assignment(seen)
        if assignment is None:
            raise ActionError(_("Your unit has no incident assigned."), status=409)
        # Lock order as the dispatcher's: the incident first, then the unit.
        incident = (
            Incident.objects.select_for_update(of=("self",))
            .select_related("type", "city")
            .filter(pk=assignment.incident_id)
            .first()
        )
        unit = _crewed_unit(request.user, unit_id)
        incident_actions.check_unit_progress(
            request.user,
            incident,
            unit,
            step=data["step"],
            expected_unit_version=data["unit_version"],
        )
        return _("Status sent: %(step)s.") % {"step": dict(STEPS)[data["step"]]}

    return _act(request, ProgressForm(request.POST), act)


@requires(Action.FIELD_UNIT_PAGE)
@require_POST
def change_status(request: HttpRequest, unit_id: int) -> HttpResponse:
    """Available again, or out of service (with a reason)."""

    def act(data: dict) -> str:
        unit = _crewed_unit(request.user, unit_id)
        actions.check_change_unit_status(
            request.user,
            unit,
            status=data["status"],
            expected_version=data["unit_version"],
            reason=data["reason"],
        )
        return _("%(call_sign)s is now %(status)s.") % {
            "call_sign": unit.call_sign,
            "status": unit.get_status_display(),
        }

    return _act(request, StatusForm(request.POST), act)
