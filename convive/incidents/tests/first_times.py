"""What an incident's first times (``Incident.first_*_at``) must equal, and a whole lifecycle
driven by the real actions, for the incidents', analytics' and demo's tests.

The definition (docs/kpis.md): the earliest ``IncidentEvent.at`` of each kind among the
incident's own events, which is what the figures computed with ``Min`` over the events before
the stamps existed.
"""

from __future__ import annotations

from datetime import datetime

from django.db import transaction
from django.db.models import Min, Q

from convive.accounts.models import User
from convive.incidents.actions import (
    check_close,
    check_create_incident_from_call,
    check_reopen,
    check_unit_progress,
)
from convive.incidents.models import Incident
from convive.incidents.tests.factories import KENNEDY_POINT, call_times, dispatch
from convive.territories.models import City
from convive.units.models import Unit

FIELDS = Incident.FIRST_TIME_FIELDS
Times = dict[str, datetime | None]


def first_times_from_events() -> dict[int, Times]:
    """Each incident's earliest event of each kind, by ``Min`` over its events."""
    firsts = {name: Min("events__at", filter=Q(events__kind=kind)) for kind, name in FIELDS.items()}
    rows = Incident.objects.order_by().values("pk").annotate(**firsts)
    return {row.pop("pk"): row for row in rows}


def stored_first_times() -> dict[int, Times]:
    """Each incident's stamps, as stored."""
    rows = Incident.objects.order_by().values("pk", *FIELDS.values())
    return {row.pop("pk"): row for row in rows}


def in_hand(incident: Incident) -> Times:
    """The stamps of an ``Incident`` object, as the caller holds it."""
    return {name: getattr(incident, name) for name in FIELDS.values()}


def live_incident(
    call_taker: User, dispatcher: User, unit: Unit, *, city: City, type_code: str
) -> Incident:
    """Call → dispatch → en route → on scene → cleared → closed → reopened → dispatched again →
    closed (its unit released), each step through its action, on the same objects throughout."""
    received, answered = call_times()
    with transaction.atomic():
        incident = check_create_incident_from_call(
            call_taker,
            city=city,
            type_code=type_code,
            lon=KENNEDY_POINT[0],
            lat=KENNEDY_POINT[1],
            received_at=received,
            answered_at=answered,
        )

    def send() -> None:
        dispatch(dispatcher, incident, unit)

    def close(outcome: str) -> None:
        with transaction.atomic():
            check_close(dispatcher, incident, outcome=outcome, expected_version=incident.version)

    send()
    for step in ("en_route", "on_scene", "cleared"):
        with transaction.atomic():
            check_unit_progress(
                dispatcher, incident, unit, step=step, expected_unit_version=unit.version
            )
    close("Resuelto en el lugar.")
    with transaction.atomic():
        check_reopen(
            dispatcher, incident, reason="Volvieron a pelear.", expected_version=incident.version
        )
    send()
    close("Resuelto por segunda vez.")
    return incident
