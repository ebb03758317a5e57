"""Possible duplicates for the call-taking form, the open queue, and what a citizen sees."""

from datetime import timedelta

from django.utils import timezone, translation

from convive.incidents.actions import (
    check_add_note,
    check_advance_status,
    check_close,
    check_create_incident_from_report,
    check_merge_incident,
    check_record_referral,
)
from convive.incidents.models import Incident
from convive.incidents.queries import (
    distance_metres,
    incident_status_for_report,
    list_open_incidents,
    list_timeline,
    nearby_open_duplicates,
)
from convive.incidents.tests.factories import KENNEDY_POINT, IncidentFactory, IncidentSourceFactory
from convive.reports.models import Report
from convive.reports.tests.factories import CategoryFactory, ReportFactory

LON, LAT = KENNEDY_POINT
METRE_IN_LAT = 1 / 111_320  # degrees of latitude per metre


def near(world, types, *, metres_north=0.0, **overrides):
    values = {
        "city": world.city,
        "type": types.rina,
        "lon": LON,
        "lat": LAT + metres_north * METRE_IN_LAT,
    }
    return IncidentFactory(**{**values, **overrides})


def duplicates(world, types, **kwargs):
    return nearby_open_duplicates(
        city=world.city, incident_type=types.rina, lon=LON, lat=LAT, **kwargs
    )


def test_distance_is_in_metres():
    assert abs(distance_metres(LON, LAT, LON, LAT + 300 * METRE_IN_LAT) - 300) < 1


def test_duplicates_are_open_near_recent_and_of_the_same_type(world, types):
    closest = near(world, types, metres_north=20)
    farther = near(world, types, metres_north=250)
    near(world, types, metres_north=350)  # too far
    near(world, types, metres_north=-800)  # much too far
    near(world, types, type=types.robo)  # another type
    near(world, types, created_at=timezone.now() - timedelta(minutes=61))  # too old
    near(world, types, status=Incident.Status.CLOSED)  # closed
    assert duplicates(world, types) == [closest, farther]


def test_duplicates_take_a_radius_a_window_and_an_exclusion(world, types):
    close = near(world, types, metres_north=20)
    farther = near(world, types, metres_north=900)
    old = near(world, types, created_at=timezone.now() - timedelta(minutes=90))
    assert duplicates(world, types, metres=1000, minutes=120) == [old, close, farther]
    assert duplicates(world, types, metres=1000, exclude_id=old.pk) == [close, farther]
    assert duplicates(world, types, metres=50_000, minutes=120) == [old, close, farther]


def test_no_point_no_duplicates(world, types):
    near(world, types)
    assert (
        nearby_open_duplicates(city=world.city, incident_type=types.rina, lon=None, lat=None) == []
    )


def test_the_open_queue_is_by_priority_then_age(world, types):
    old_p3 = near(world, types, priority=3, created_at=timezone.now() - timedelta(minutes=30))
    new_p1 = near(world, types, priority=1)
    old_p1 = near(world, types, priority=1, created_at=timezone.now() - timedelta(minutes=5))
    near(world, types, status=Incident.Status.CLOSED)
    assert list(list_open_incidents(Incident.objects.all())) == [old_p1, new_p1, old_p3]


def test_the_timeline_is_in_time_order(dispatcher, incident):
    check_add_note(dispatcher, incident, body="Primera")
    check_add_note(dispatcher, incident, body="Segunda")
    assert [e.body for e in list_timeline(incident)] == ["Primera", "Segunda"]


def sos(world):
    return ReportFactory(
        city=world.city,
        category=CategoryFactory(code="sos-app", urgent=True),
        status=Report.Status.SOS,
        is_urgent=True,
        lon=LON,
        lat=LAT,
    )


def test_a_report_that_is_no_incident_has_no_incident_status(world):
    assert incident_status_for_report(ReportFactory(city=world.city)) is None


def test_the_citizen_sees_the_status_and_public_steps_only(dispatcher, world, types):
    report = sos(world)
    incident, _ = check_create_incident_from_report(None, report)
    IncidentSourceFactory(incident=incident, caller_phone="3001112233", caller_name="Vecina")
    check_add_note(dispatcher, incident, body="Vecina dice que el agresor es el exesposo")
    check_record_referral(
        dispatcher,
        incident,
        service=world.justice_house,
        consent_given=True,
        consent_note="Aceptó",
    )
    check_advance_status(dispatcher, incident, status="dispatched", expected_version=3)

    with translation.override("en"):
        status = incident_status_for_report(report)
    assert (status.status, status.status_label, status.is_open) == (
        "dispatched",
        "A unit was sent",
        True,
    )
    assert [step.label for step in status.steps] == [
        "The command centre took charge",
        "A unit was sent",
    ]
    assert [step.kind for step in status.steps] == ["created", "dispatched"]
    assert all(step.at for step in status.steps)
    assert "exesposo" not in repr(status)
    assert "3001112233" not in repr(status)


def test_after_a_merge_the_citizen_follows_the_surviving_incident(
    dispatcher, world, types, incident
):
    report = sos(world)
    duplicate, _ = check_create_incident_from_report(None, report)
    check_merge_incident(
        dispatcher,
        duplicate,
        incident,
        reason="Misma riña",
        expected_versions={duplicate.pk: 1, incident.pk: 1},
    )
    check_close(dispatcher, incident, outcome="Atendido", expected_version=2)
    status = incident_status_for_report(report)
    assert (status.status, status.is_open) == ("closed", False)
    assert [step.kind for step in status.steps] == ["closed"]
