"""Incidents opened by devices (panic buttons, cameras, plate readers), and the console events
that every incident change sends once committed."""

import pytest
from asgiref.sync import async_to_sync
from channels.layers import get_channel_layer
from django.db import transaction

from convive.core.errors import ActionError
from convive.incidents.actions import (
    check_add_note,
    check_create_incident_from_call,
    check_create_incident_from_device,
)
from convive.incidents.events import incidents_group
from convive.incidents.models import IncidentEvent, IncidentSource, Priority
from convive.incidents.tests.factories import KENNEDY_POINT, OUTSIDE_POINT, call_times


def press(world, **overrides):
    values = {
        "city": world.city,
        "source_kind": IncidentSource.Kind.PANIC_BUTTON,
        "type_code": "sos",
        "lon": KENNEDY_POINT[0],
        "lat": KENNEDY_POINT[1],
        "data": {"device": "TOTEM-001", "counter": 7},
    }
    return check_create_incident_from_device(**{**values, **overrides})


def test_a_panic_press_opens_a_p1_incident_where_the_button_stands(world, types):
    incident = press(world)

    assert (incident.priority, incident.locality, incident.created_by) == (
        Priority.P1,
        world.kennedy,
        None,
    )
    source = incident.sources.get()
    assert (source.kind, source.data) == ("panic_button", {"device": "TOTEM-001", "counter": 7})
    assert list(incident.events.values_list("kind", flat=True)) == [IncidentEvent.Kind.CREATED]


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"source_kind": "call"}, "source_kind"),
        ({"type_code": "no-such-type"}, "type"),
        ({"lon": OUTSIDE_POINT[0], "lat": OUTSIDE_POINT[1]}, "location"),
    ],
)
def test_a_bad_device_alert_is_refused_and_writes_nothing(world, types, overrides, field):
    with pytest.raises(ActionError) as refused:
        press(world, **overrides)

    assert refused.value.field == field
    assert not IncidentSource.objects.exists()


def receive_all(channel: str) -> list[dict]:
    layer = get_channel_layer()
    messages = []
    while True:
        try:
            messages.append(async_to_sync(_receive_now)(layer, channel))
        except TimeoutError:
            return messages


async def _receive_now(layer, channel):
    import asyncio

    return await asyncio.wait_for(layer.receive(channel), timeout=0.05)


@pytest.mark.django_db(transaction=True)
def test_consoles_hear_of_a_change_only_once_it_is_committed(world, types, call_taker, settings):
    # The in-memory layer, whatever REDIS_URL says: the test reads the channel from several event
    # loops, one per call, which Redis connections (bound to their loop) do not allow.
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(incidents_group(world.city.pk), channel)

    with transaction.atomic():
        incident = press(world)
        assert receive_all(channel) == []  # not yet committed
    created = receive_all(channel)
    assert [m["event"]["step"] for m in created] == ["created"]
    assert created[0]["type"] == "incident_changed"
    assert created[0]["event"]["incident_id"] == incident.pk

    with transaction.atomic():
        check_add_note(call_taker, incident, body="Sigue sonando.")
        transaction.set_rollback(True)
    assert receive_all(channel) == []  # rolled back: never sent


@pytest.mark.django_db(transaction=True)
def test_a_transaction_of_several_steps_sends_one_message(world, types, call_taker, settings):
    settings.CHANNEL_LAYERS = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
    layer = get_channel_layer()
    channel = async_to_sync(layer.new_channel)()
    async_to_sync(layer.group_add)(incidents_group(world.city.pk), channel)
    received, answered = call_times()

    with transaction.atomic():  # received, answered, created: three steps
        incident = check_create_incident_from_call(
            call_taker,
            city=world.city,
            type_code="rina",
            lon=KENNEDY_POINT[0],
            lat=KENNEDY_POINT[1],
            received_at=received,
            answered_at=answered,
        )

    messages = receive_all(channel)
    assert [(m["event"]["incident_id"], m["event"]["step"]) for m in messages] == [
        (incident.pk, "created")
    ]
