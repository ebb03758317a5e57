"""Dispatch and the units' field steps (``check_dispatch_unit``, ``check_unit_progress``).

A refused dispatch writes nothing: neither the incident, nor the unit, nor an assignment. Two
dispatchers acting at once on the same unit or the same incident: exactly one wins (PostgreSQL).
"""

import json
import threading

import pytest
from django.db import connection, transaction

from convive.core.errors import ActionError
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.incidents.access import access_incident_by_id
from convive.incidents.actions import (
    VersionConflictError,
    check_close,
    check_dispatch_unit,
    check_unit_progress,
)
from convive.incidents.models import Assignment, Incident, IncidentEvent
from convive.incidents.tests.factories import IncidentFactory, dispatch
from convive.units.access import access_unit_by_id
from convive.units.actions import UnitConflictError
from convive.units.models import Unit
from convive.units.tests.factories import UnitFactory

pytestmark = pytest.mark.usefixtures("english")


@pytest.fixture
def english():
    from django.utils import translation

    with translation.override("en"):
        yield


@pytest.fixture
def unit(world):
    return UnitFactory(institution=world.police, call_sign="PAT-08-1", at=(-74.15, 4.60))


def snapshot(incident: Incident, unit: Unit) -> tuple:
    incident.refresh_from_db()
    unit.refresh_from_db()
    return (
        incident.version,
        incident.status,
        unit.version,
        unit.status,
        unit.current_load,
        Assignment.objects.count(),
        IncidentEvent.objects.filter(incident=incident).count(),
        AuditEvent.objects.count(),
    )


def test_a_dispatch_moves_the_unit_and_the_incident(dispatcher, incident, unit):
    event = dispatch(dispatcher, incident, unit)

    incident.refresh_from_db()
    unit.refresh_from_db()
    assert (incident.status, incident.version) == ("dispatched", 2)
    assert (unit.status, unit.version, unit.current_load) == ("dispatched", 2, 1)
    assert event.kind == "dispatched"
    assert event.data == {"unit": unit.pk, "call_sign": "PAT-08-1"}
    assignment = Assignment.objects.get()
    assert (assignment.incident, assignment.unit, assignment.dispatched_by) == (
        incident,
        unit,
        dispatcher,
    )
    assert assignment.cleared_at is None
    tags = set(AuditEvent.objects.values_list("tag", flat=True))
    assert {AuditTag.INCIDENT_UNIT_DISPATCHED, AuditTag.UNIT_STATUS_CHANGED} <= tags
    audit = AuditEvent.objects.get(tag=AuditTag.INCIDENT_UNIT_DISPATCHED)
    assert (audit.actor_user_id, audit.subject_id) == (dispatcher.pk, str(incident.pk))
    data = json.loads(audit.data)
    assert (data["call_sign"], data["from"], data["to"]) == ("PAT-08-1", "new", "dispatched")


def test_a_second_unit_leaves_the_status_but_writes_the_step(dispatcher, world, incident, unit):
    dispatch(dispatcher, incident, unit)
    other = UnitFactory(institution=world.police, call_sign="PAT-08-2")
    dispatch(dispatcher, incident, other)
    incident.refresh_from_db()
    assert (incident.status, incident.version) == ("dispatched", 3)
    assert incident.events.filter(kind="dispatched").count() == 2


@pytest.mark.parametrize(
    ("change", "error", "field"),
    [
        ({"expected_incident_version": 7}, VersionConflictError, "expected_version"),
        ({"expected_unit_version": 7}, UnitConflictError, "expected_version"),
    ],
)
def test_a_stale_version_is_a_conflict_and_writes_nothing(
    dispatcher, incident, unit, change, error, field
):
    before = snapshot(incident, unit)
    with pytest.raises(error) as caught:
        dispatch(dispatcher, incident, unit, **change)
    assert caught.value.status == 409
    assert caught.value.field == field
    assert caught.value.current is not None
    assert snapshot(incident, unit) == before


def test_a_unit_stale_after_the_incident_write_rolls_everything_back(dispatcher, incident, unit):
    """The unit changes between the caller's read and the write: the incident's write, already
    made, goes with the transaction."""
    before = snapshot(incident, unit)
    Unit.objects.filter(pk=unit.pk).update(version=5)  # somebody else, meanwhile
    unit.version = 1  # what this dispatcher read
    with pytest.raises(UnitConflictError) as caught:
        dispatch(dispatcher, incident, unit)
    assert caught.value.current["version"] == 5
    incident.refresh_from_db()
    assert (incident.version, incident.status) == before[:2]
    assert Assignment.objects.count() == 0


@pytest.mark.parametrize(
    ("setup", "message"),
    [
        ({"status": Unit.Status.EN_ROUTE}, "not available"),
        ({"status": Unit.Status.OUT_OF_SERVICE}, "not available"),
        ({"active": False}, "not available"),
        ({"capabilities": ["ambulance"]}, "lacks what this incident needs: patrol"),
    ],
)
def test_an_unsuitable_unit_is_refused(dispatcher, incident, unit, setup, message):
    Unit.objects.filter(pk=unit.pk).update(**setup)
    unit.refresh_from_db()
    before = snapshot(incident, unit)
    with pytest.raises(ActionError) as caught:
        dispatch(dispatcher, incident, unit)
    assert message in caught.value.message
    assert caught.value.field == "unit"
    assert snapshot(incident, unit) == before


def test_a_unit_of_another_city_or_a_closed_incident_is_refused(dispatcher, world, incident):
    stranger = UnitFactory()  # another institution, in another city
    with pytest.raises(ActionError) as caught:
        dispatch(dispatcher, incident, stranger)
    assert caught.value.field == "unit"
    unit = UnitFactory(institution=world.police)
    with transaction.atomic():
        check_close(dispatcher, incident, outcome="Falsa alarma.", expected_version=1)
    with pytest.raises(ActionError) as caught:
        dispatch(dispatcher, incident, unit)
    assert caught.value.status == 409
    assert "closed" in caught.value.message


def test_a_unit_is_on_one_incident_at_a_time(dispatcher, world, types, incident, unit):
    dispatch(dispatcher, incident, unit)
    other = IncidentFactory(city=world.city, type=types.rina, locality=world.kennedy)
    unit.refresh_from_db()
    with pytest.raises(ActionError) as caught:
        dispatch(dispatcher, other, unit)
    assert caught.value.status == 409
    # Even if its status were set back by hand, the open assignment still holds it.
    Unit.objects.filter(pk=unit.pk).update(status=Unit.Status.AVAILABLE)
    unit.refresh_from_db()
    with pytest.raises(ActionError, match="still assigned"):
        dispatch(dispatcher, other, unit)


def test_a_busy_unit_is_reassigned_to_a_more_urgent_incident(
    dispatcher, world, types, incident, unit
):
    dispatch(dispatcher, incident, unit)
    unit.refresh_from_db()
    urgent = IncidentFactory(city=world.city, type=types.rina, priority=1)
    with transaction.atomic():
        check_unit_progress(dispatcher, incident, unit, step="en_route", expected_unit_version=2)
    unit.refresh_from_db()
    event = dispatch(dispatcher, urgent, unit, reassign=True)
    assert event.data["reassigned_from"] == incident.pk
    unit.refresh_from_db()
    assert (unit.status, unit.current_load) == ("dispatched", 1)
    old, new = Assignment.objects.order_by("pk")
    assert (old.incident, old.cleared_at is not None) == (incident, True)
    assert (new.incident, new.cleared_at) == (urgent, None)
    left = incident.events.filter(kind="cleared").get()
    assert left.data["reassigned_to"] == urgent.pk
    with pytest.raises(ActionError, match="already assigned to this incident"):
        dispatch(dispatcher, urgent, unit, reassign=True)


# --- Field steps ------------------------------------------------------------------------------


def progress(actor, incident, unit, step, **overrides):
    incident.refresh_from_db()
    unit.refresh_from_db()
    with transaction.atomic():
        return check_unit_progress(
            actor,
            incident,
            unit,
            step=step,
            **{"expected_unit_version": unit.version, **overrides},
        )


def test_the_unit_goes_en_route_on_scene_and_clears(dispatcher, incident, unit):
    dispatch(dispatcher, incident, unit)
    for step in ("en_route", "on_scene", "cleared"):
        event = progress(dispatcher, incident, unit, step)
        assert event.kind == step
        assert event.data["unit"] == unit.pk
    incident.refresh_from_db()
    unit.refresh_from_db()
    assert incident.status == "cleared"
    assert (unit.status, unit.current_load) == ("available", 0)
    assignment = Assignment.objects.get()
    assert assignment.en_route_at <= assignment.on_scene_at <= assignment.cleared_at


def test_the_incident_clears_with_its_last_unit(dispatcher, world, incident, unit):
    other = UnitFactory(institution=world.police, call_sign="PAT-08-2")
    dispatch(dispatcher, incident, unit)
    incident.refresh_from_db()
    dispatch(dispatcher, incident, other)
    progress(dispatcher, incident, unit, "cleared")
    incident.refresh_from_db()
    assert incident.status == "dispatched"
    progress(dispatcher, incident, other, "cleared")
    incident.refresh_from_db()
    assert incident.status == "cleared"


def test_closing_an_incident_releases_its_units(dispatcher, incident, unit):
    dispatch(dispatcher, incident, unit)
    incident.refresh_from_db()
    with transaction.atomic():
        check_close(dispatcher, incident, outcome="Resuelto.", expected_version=incident.version)

    unit.refresh_from_db()
    assert (unit.status, unit.current_load) == ("available", 0)
    assignment = incident.assignments.get()
    assert assignment.cleared_at is not None
    steps = list(incident.events.order_by("at", "pk").values_list("kind", flat=True))
    assert steps[-2:] == ["cleared", "closed"]
    with pytest.raises(ActionError):  # nothing left to clear
        progress(dispatcher, incident, unit, "cleared")


@pytest.mark.parametrize(
    ("steps", "field"),
    [(["on_scene", "en_route"], "step"), (["en_route", "en_route"], "step")],
)
def test_steps_do_not_go_back_or_repeat(dispatcher, incident, unit, steps, field):
    dispatch(dispatcher, incident, unit)
    progress(dispatcher, incident, unit, steps[0])
    with pytest.raises(ActionError) as caught:
        progress(dispatcher, incident, unit, steps[1])
    assert (caught.value.status, caught.value.field) == (409, field)


def test_progress_refusals(dispatcher, world, incident, unit):
    with pytest.raises(ActionError, match="not assigned"):
        progress(dispatcher, incident, unit, "en_route")
    dispatch(dispatcher, incident, unit)
    with pytest.raises(ActionError) as caught:
        progress(dispatcher, incident, unit, "flying")
    assert caught.value.field == "step"
    with pytest.raises(UnitConflictError):
        progress(dispatcher, incident, unit, "en_route", expected_unit_version=1)


def test_a_field_unit_moves_only_a_unit_it_crews(dispatcher, field_unit, incident, unit):
    dispatch(dispatcher, incident, unit)
    with pytest.raises(ActionError) as caught:
        progress(field_unit, incident, unit, "en_route")
    assert caught.value.status == 404
    unit.crew.add(field_unit)
    progress(field_unit, incident, unit, "en_route")
    unit.refresh_from_db()
    assert unit.status == "en_route"


# --- Two dispatchers at once (PostgreSQL: real row locks and concurrent transactions) -----------


def race(jobs):
    """Run the jobs at the same instant, each in its own durable transaction and connection."""
    start = threading.Barrier(len(jobs))
    won, lost, errors = [], [], []

    def run(job):
        try:
            start.wait(timeout=30)
            with transaction.atomic(durable=True):
                job()
            won.append(job)
        except (VersionConflictError, UnitConflictError) as conflict:
            lost.append(conflict)
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=60)
    return won, lost, errors


def dispatch_job(actor, incident_id, unit_id):
    def job():
        # As the API does: the incident's row lock, then the unit's, then the action.
        incident = access_incident_by_id(actor, incident_id, for_update=True)
        unit = access_unit_by_id(actor, unit_id, for_update=True)
        check_dispatch_unit(
            actor, incident, unit, expected_incident_version=1, expected_unit_version=1
        )

    return job


@pytest.mark.django_db(transaction=True)
def test_one_unit_sent_to_two_incidents_at_once_goes_to_one(
    postgres, dispatcher, supervisor, world, types
):
    unit = UnitFactory(institution=world.police, at=(-74.15, 4.60))
    first, second = (
        IncidentFactory(city=world.city, type=types.rina, locality=world.kennedy) for _ in range(2)
    )
    won, lost, errors = race(
        [dispatch_job(dispatcher, first.pk, unit.pk), dispatch_job(supervisor, second.pk, unit.pk)]
    )
    assert errors == []
    assert (len(won), len(lost)) == (1, 1)
    assert isinstance(lost[0], UnitConflictError)
    assert lost[0].current["status"] == "dispatched"
    unit.refresh_from_db()
    assert (unit.version, unit.current_load) == (2, 1)
    assert Assignment.objects.count() == 1
    statuses = sorted(Incident.objects.values_list("status", flat=True))
    assert statuses == ["dispatched", "new"]  # the loser's incident was not touched


@pytest.mark.django_db(transaction=True)
def test_two_dispatchers_on_one_incident_at_once_one_wins(
    postgres, dispatcher, supervisor, world, types
):
    incident = IncidentFactory(city=world.city, type=types.rina, locality=world.kennedy)
    units = [UnitFactory(institution=world.police, at=(-74.15, 4.60)) for _ in range(2)]
    won, lost, errors = race(
        [
            dispatch_job(dispatcher, incident.pk, units[0].pk),
            dispatch_job(supervisor, incident.pk, units[1].pk),
        ]
    )
    assert errors == []
    assert (len(won), len(lost)) == (1, 1)
    assert isinstance(lost[0], VersionConflictError)
    assert lost[0].current.version == 2
    incident.refresh_from_db()
    assert (incident.status, incident.version) == ("dispatched", 2)
    assert Assignment.objects.count() == 1
    loads = sorted(Unit.objects.values_list("current_load", flat=True))
    assert loads == [0, 1]  # the loser's unit was not touched
