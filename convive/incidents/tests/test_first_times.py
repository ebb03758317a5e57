"""The first time of each timeline step, kept on the incident (``Incident.first_*_at``): by the
actions as they write events, by the migration that added them, by ``rebuild_incident_times``.
Each must equal the earliest event of that kind among the incident's own events (docs/kpis.md).
"""

from __future__ import annotations

import json
from datetime import timedelta
from io import StringIO

import pytest
from django.core.management import call_command
from django.db import connection
from django.db.migrations.executor import MigrationExecutor
from django.utils import timezone

from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.incidents.actions import (
    check_add_note,
    check_create_incident_from_call,
    check_link_incidents,
    check_merge_incident,
    do_rebuild_incident_times,
    do_stamp_first_time,
)
from convive.incidents.models import Incident, IncidentEvent
from convive.incidents.tests.factories import (
    KENNEDY_POINT,
    IncidentEventFactory,
    IncidentFactory,
    call_times,
)
from convive.incidents.tests.first_times import (
    FIELDS,
    first_times_from_events,
    in_hand,
    live_incident,
    stored_first_times,
)
from convive.units.tests.factories import UnitFactory

Kind = IncidentEvent.Kind


@pytest.fixture
def unit(world):
    return UnitFactory(institution=world.police, call_sign="PAT-08-1", at=KENNEDY_POINT)


def stored(incident: Incident) -> dict:
    return stored_first_times()[incident.pk]


def test_every_stamped_kind_is_a_timeline_kind():
    assert set(FIELDS) <= set(Kind.values)
    assert {field.name for field in Incident._meta.fields} >= set(FIELDS.values())


def test_a_whole_lifecycle_keeps_the_first_time_of_each_step(
    call_taker, dispatcher, world, types, unit
):
    incident = live_incident(call_taker, dispatcher, unit, city=world.city, type_code="rina")

    firsts: dict[str, object] = {}
    for event in incident.events.order_by("at", "pk"):
        firsts.setdefault(event.kind, event.at)
    assert stored(incident) == {name: firsts[kind] for kind, name in FIELDS.items()}
    assert stored(incident) == first_times_from_events()[incident.pk]
    assert in_hand(incident) == stored(incident)  # the caller's object agrees with the table
    # Repeated steps did not move the first ones.
    repeats = {kind: incident.events.filter(kind=kind).count() for kind in ("dispatched", "closed")}
    assert repeats == {"dispatched": 2, "closed": 2}
    assert incident.events.filter(kind="cleared").count() == 2
    last_close = incident.events.filter(kind="closed").order_by("at").last()
    assert incident.first_closed_at < last_close.at


def test_a_stamp_is_the_earliest_time_and_leaves_the_version_alone(incident):
    now = timezone.now()
    do_stamp_first_time(incident, kind=Kind.DISPATCHED, at=now)
    do_stamp_first_time(incident, kind=Kind.DISPATCHED, at=now + timedelta(minutes=5))
    assert stored(incident)["first_dispatched_at"] == incident.first_dispatched_at == now

    earlier = now - timedelta(minutes=5)
    do_stamp_first_time(incident, kind=Kind.DISPATCHED, at=earlier)
    assert stored(incident)["first_dispatched_at"] == incident.first_dispatched_at == earlier
    incident.refresh_from_db()
    assert incident.version == 1


def test_an_object_in_hand_that_missed_an_earlier_stamp_is_brought_up_to_date(incident):
    stale = Incident.objects.filter(pk=incident.pk).first()
    now = timezone.now()
    do_stamp_first_time(incident, kind=Kind.ON_SCENE, at=now)
    do_stamp_first_time(stale, kind=Kind.ON_SCENE, at=now + timedelta(seconds=30))
    assert stale.first_on_scene_at == now


def test_other_kinds_have_no_stamp_and_cost_no_query(
    dispatcher, incident, django_assert_num_queries
):
    with django_assert_num_queries(0):
        do_stamp_first_time(incident, kind=Kind.NOTE, at=timezone.now())
    check_add_note(dispatcher, incident, body="Llamaron de nuevo.")
    assert set(stored(incident).values()) == {None}


def call(call_taker, world, received_earlier_by: int = 0) -> Incident:
    received, answered = call_times()
    shift = timedelta(seconds=received_earlier_by)
    return check_create_incident_from_call(
        call_taker,
        city=world.city,
        type_code="rina",
        lon=KENNEDY_POINT[0],
        lat=KENNEDY_POINT[1],
        received_at=received - shift,
        answered_at=answered - shift,
    )


def test_merged_and_linked_incidents_keep_the_times_of_their_own_timeline(
    call_taker, dispatcher, world, types
):
    into = call(call_taker, world)
    duplicate = call(call_taker, world, received_earlier_by=20)  # its source moves to ``into``
    other = call(call_taker, world)
    own_times = in_hand(into)
    check_merge_incident(
        dispatcher,
        duplicate,
        into,
        reason="Misma riña",
        expected_versions={duplicate.pk: duplicate.version, into.pk: into.version},
    )
    check_link_incidents(
        dispatcher,
        into,
        other,
        reason="Misma calle",
        expected_versions={into.pk: into.version, other.pk: other.version},
    )
    assert stored(into) == own_times
    assert stored_first_times() == first_times_from_events()


# --- Repairs: the command and the migration ------------------------------------------------------


@pytest.fixture
def timelines(db):
    """Three incidents with events written by the factory (which keeps the stamps) and one
    without any event."""
    start = timezone.now() - timedelta(hours=1)
    found = []
    for number in range(3):
        incident = IncidentFactory()
        for offset, kind in enumerate(("call_received", "created", "dispatched", "note")):
            at = start + timedelta(seconds=10 * offset + number)
            IncidentEventFactory(incident=incident, kind=kind, at=at)
        found.append(incident)
    found.append(IncidentFactory())
    return found


def test_rebuild_repairs_the_stamps_of_events_written_some_other_way(timelines):
    first, second, _third, without_events = timelines
    earlier = first.first_dispatched_at - timedelta(seconds=5)
    IncidentEvent.objects.bulk_create(
        [IncidentEvent(incident=first, kind="dispatched", at=earlier)]
    )
    Incident.objects.filter(pk=second.pk).update(first_created_at=None)
    Incident.objects.filter(pk=without_events.pk).update(first_closed_at=timezone.now())
    versions = dict(Incident.objects.values_list("pk", "version"))

    assert do_rebuild_incident_times() == 3
    assert stored_first_times() == first_times_from_events()
    assert stored(first)["first_dispatched_at"] == earlier
    assert set(stored(without_events).values()) == {None}
    assert dict(Incident.objects.values_list("pk", "version")) == versions
    assert do_rebuild_incident_times() == 0  # nothing left to correct
    audits = AuditEvent.objects.filter(tag=AuditTag.INCIDENT_TIMES_REBUILT).order_by("pk")
    assert [json.loads(a.data)["corrected"] for a in audits] == [3, 0]


def test_the_command_rebuilds_and_says_how_many_it_corrected(timelines):
    Incident.objects.filter(pk=timelines[0].pk).update(first_call_received_at=None)
    out = StringIO()
    call_command("rebuild_incident_times", stdout=out)
    assert out.getvalue().strip().endswith(": 1.")
    assert stored_first_times() == first_times_from_events()


@pytest.mark.django_db(transaction=True)
def test_the_migration_fills_the_stamps_from_existing_events(timelines):
    executor = MigrationExecutor(connection)
    latest = executor.loader.graph.leaf_nodes("incidents")
    try:
        executor.migrate([("incidents", "0002_assignment")])  # the columns are dropped
        executor.loader.build_graph()
        executor.migrate([("incidents", "0003_incident_first_times")])
    finally:
        executor.loader.build_graph()
        executor.migrate(latest)
    found = stored_first_times()
    assert found == first_times_from_events()
    assert found[timelines[0].pk]["first_dispatched_at"] is not None
    assert set(found[timelines[-1].pk].values()) == {None}
