"""A press becomes one P1 incident where the button stands; anything else is refused and kept."""

import json
import threading
from datetime import timedelta

import pytest
from django.db import connection, transaction
from django.utils import timezone

from convive.core.errors import ActionError
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.devices.actions import (
    PressRefusedError,
    check_create_panic_button,
    check_panic_press,
    do_rotate_panic_button_key,
)
from convive.devices.models import DeviceRejection, PanicButton
from convive.devices.tests.conftest import KENNEDY_POINT, OUTSIDE_POINT, Button
from convive.devices.wire import parse_http_press
from convive.incidents.models import Incident, IncidentSource, Priority
from convive.institutions.tests.factories import InstitutionFactory
from convive.territories.tests.factories import CityFactory

Reason = DeviceRejection.Reason


def press(button: Button, counter: int, *, secret: str | None = None, **kwargs):
    """Press ``counter`` as the webhook does: refusals are committed with the transaction."""
    body = button.body(counter, **{k: v for k, v in kwargs.items() if k == "sent_at"})
    signed = Button(button.device, secret or button.secret)
    parsed = parse_http_press(body, signed.header(body))
    with transaction.atomic():
        try:
            return check_panic_press(parsed, source="http", city_slug=kwargs.get("city_slug"))
        except PressRefusedError as error:  # as the webhook does: the refusal's record is kept
            refused = error
    raise refused


def refusal(button: Button, counter: int, **kwargs) -> PressRefusedError:
    with pytest.raises(PressRefusedError) as refused:
        press(button, counter, **kwargs)
    return refused.value


def test_a_press_opens_a_p1_incident_where_the_button_stands(button, world):
    incident = press(button, 1)

    assert (incident.priority, incident.city, incident.locality) == (
        Priority.P1,
        world.city,
        world.kennedy,
    )
    assert (incident.lon, incident.lat, incident.institution) == (*KENNEDY_POINT, world.police)
    assert incident.type.code == "boton-panico"
    assert "TOTEM-0001" in incident.summary
    source = incident.sources.get()
    assert (source.kind, source.data) == (
        IncidentSource.Kind.PANIC_BUTTON,
        {"device": "TOTEM-0001", "counter": 1},
    )
    button.device.refresh_from_db()
    assert button.device.last_counter == 1
    assert not DeviceRejection.objects.exists()


def test_every_new_counter_is_a_new_press(button):
    first, second = press(button, 1), press(button, 5)

    assert first.pk != second.pk
    assert PanicButton.objects.get().last_counter == 5


@pytest.mark.parametrize("counter", [3, 2])
def test_a_replayed_or_older_counter_is_refused_with_409(button, counter, english):
    press(button, 3)

    refused = refusal(button, counter)

    assert (refused.status, refused.reason) == (409, Reason.REPLAY)
    assert "already received" in refused.message
    assert Incident.objects.count() == 1
    assert PanicButton.objects.get().last_counter == 3


def test_a_bad_signature_is_refused_logged_and_audited(button, english):
    refused = refusal(button, 1, secret="another-key")

    assert (refused.status, refused.reason) == (401, Reason.BAD_SIGNATURE)
    assert refused.message == "The press could not be authenticated."
    rejection = DeviceRejection.objects.get()
    assert (rejection.device, rejection.device_code, rejection.source) == (
        button.device,
        "TOTEM-0001",
        "http",
    )
    audit = AuditEvent.objects.filter(tag=AuditTag.DEVICE_MESSAGE_REFUSED).get()
    assert json.loads(audit.data) == {
        "code": "TOTEM-0001",
        "reason": "bad_signature",
        "source": "http",
    }
    assert not Incident.objects.exists()
    assert PanicButton.objects.get().last_counter == 0


def test_an_unknown_device_gets_the_same_answer_as_a_bad_signature(button, english):
    stranger = Button(PanicButton(code="TOTEM-9999"), button.secret)

    refused = refusal(stranger, 1)

    assert (refused.status, refused.message) == (401, "The press could not be authenticated.")
    rejection = DeviceRejection.objects.get()
    assert (rejection.reason, rejection.device, rejection.device_code) == (
        Reason.UNKNOWN_DEVICE,
        None,
        "TOTEM-9999",
    )
    assert not AuditEvent.objects.filter(tag=AuditTag.DEVICE_MESSAGE_REFUSED).exists()


def test_a_button_of_another_city_is_unknown_on_that_citys_topic(button):
    refused = refusal(button, 1, city_slug="otra-ciudad")

    assert (refused.status, refused.reason) == (401, Reason.UNKNOWN_DEVICE)
    assert press(button, 1, city_slug="testopolis").pk


def test_an_inactive_button_is_refused(button):
    PanicButton.objects.update(active=False)

    refused = refusal(button, 1)

    assert (refused.status, refused.reason) == (401, Reason.INACTIVE)
    assert not Incident.objects.exists()


@pytest.mark.parametrize("seconds", [-31, 31, -3600])
def test_a_press_sent_too_far_from_the_servers_clock_is_refused(button, seconds, english):
    refused = refusal(button, 1, sent_at=timezone.now() + timedelta(seconds=seconds))

    assert (refused.status, refused.reason) == (400, Reason.STALE)
    assert "30 seconds" in refused.message
    assert not Incident.objects.exists()


def test_the_allowed_clock_skew_is_a_setting(button, settings):
    settings.PANIC_MAX_CLOCK_SKEW_SECONDS = 120

    assert press(button, 1, sent_at=timezone.now() - timedelta(seconds=100)).pk


def test_a_press_that_cannot_become_an_incident_leaves_the_counter_alone(button, panic_type):
    panic_type.active = False
    panic_type.save(update_fields=["active"])

    with pytest.raises(ActionError) as refused:
        press(button, 1)

    assert refused.value.field == "type"
    assert PanicButton.objects.get().last_counter == 0


# --- Registration -----------------------------------------------------------------------------


def register(world, **overrides):
    values = {
        "city": world.city,
        "code": "TOTEM-0002",
        "name": "Portal Américas",
        "lon": KENNEDY_POINT[0],
        "lat": KENNEDY_POINT[1],
    }
    with transaction.atomic():
        return check_create_panic_button(None, **{**values, **overrides})


def test_a_registered_button_gets_a_fresh_key_and_an_audit_entry(world):
    device, secret = register(world, code=" TOTEM-0002 ")

    assert len(secret) >= 43
    assert (device.code, device.secret, device.last_counter, device.active) == (
        "TOTEM-0002",
        secret,
        0,
        True,
    )
    audit = AuditEvent.objects.filter(tag=AuditTag.DEVICE_PANIC_BUTTON_CREATED).get()
    assert secret not in audit.data
    assert register(world, code="TOTEM-0003")[1] != secret


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"code": "TOTEM/1"}, "code"),
        ({"code": ""}, "code"),
        ({"code": "TOTEM-0001"}, "code"),  # taken
        ({"name": " "}, "name"),
        ({"address": "x" * 301}, "address"),
        ({"lon": OUTSIDE_POINT[0], "lat": OUTSIDE_POINT[1]}, "location"),
        ({"institution": "other city"}, "institution"),
    ],
)
def test_a_button_must_have_a_free_code_a_name_and_stand_in_the_city(
    world, button, overrides, field
):
    if overrides.get("institution"):
        overrides["institution"] = InstitutionFactory(city=CityFactory(slug="otra"))

    with pytest.raises(ActionError) as refused:
        register(world, **overrides)

    assert refused.value.field == field
    assert PanicButton.objects.count() == 1


def test_a_point_outside_the_globe_is_refused(world):
    with pytest.raises(ActionError):
        register(world, lon=200.0)


def test_a_new_key_replaces_the_old_one_at_once(button, platform_admin):
    with transaction.atomic():
        new = do_rotate_panic_button_key(platform_admin, button.device)

    assert new != button.secret
    assert refusal(button, 1).reason == Reason.BAD_SIGNATURE
    assert press(Button(button.device, new), 1).pk
    audit = AuditEvent.objects.filter(tag=AuditTag.DEVICE_PANIC_BUTTON_KEY_ROTATED).get()
    assert new not in audit.data


# --- Two identical presses at once (PostgreSQL) -----------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_two_identical_presses_at_once_make_exactly_one_incident(postgres, world, panic_type):
    device, secret = register(world, code="TOTEM-0100")
    twin = Button(device, secret)
    body = twin.body(1)
    parsed = parse_http_press(body, twin.header(body))
    barrier = threading.Barrier(2)
    outcomes: list[object] = []

    def deliver() -> None:
        try:
            with transaction.atomic():
                barrier.wait(timeout=5)
                try:
                    outcomes.append(check_panic_press(parsed, source="http"))
                except PressRefusedError as refused:
                    outcomes.append(refused.reason)
                # Hold the transaction open a moment so that the other press has to wait on it.
                threading.Event().wait(0.2)
        finally:
            connection.close()

    threads = [threading.Thread(target=deliver) for _ in range(2)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join(timeout=20)

    assert len(outcomes) == 2
    assert [type(o) for o in outcomes].count(Incident) == 1
    assert Reason.REPLAY in outcomes
    assert Incident.objects.count() == 1
    assert DeviceRejection.objects.get().reason == Reason.REPLAY
