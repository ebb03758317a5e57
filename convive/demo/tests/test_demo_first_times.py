"""The demo's incidents, written straight to the tables, keep their first times as the actions
do (``Incident.first_*_at``), so the response-time figures read the same as their timelines."""

from convive.incidents.models import Incident
from convive.incidents.tests.first_times import first_times_from_events, stored_first_times


def test_the_demo_incidents_have_the_first_time_of_each_step(demo):
    stored = stored_first_times()
    assert stored == first_times_from_events()
    closed = Incident.objects.filter(city=demo, status=Incident.Status.CLOSED)
    assert closed.exists()
    assert all(stored[pk]["first_closed_at"] for pk in closed.values_list("pk", flat=True))
