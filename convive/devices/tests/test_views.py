"""The webhook, as a device uses it: POST /devices/panic/ with a signed JSON body."""

import json
from datetime import timedelta

import pytest
from django.urls import reverse
from django.utils import timezone

from convive.devices.models import DeviceRejection, PanicButton
from convive.devices.tests.conftest import Button
from convive.incidents.models import Incident, Priority

pytestmark = [pytest.mark.urls("convive.devices.tests.urls"), pytest.mark.usefixtures("english")]
URL = "/devices/panic/"


def post(client, body: bytes, signature: str | None):
    headers = {"X-Convive-Signature": signature} if signature is not None else {}
    return client.post(URL, data=body, content_type="application/json", headers=headers)


def test_the_webhook_is_named():
    assert reverse("devices:panic_press") == URL


def test_a_signed_press_answers_201_with_the_incident_it_opened(client, button):
    body = button.body(1)

    response = post(client, body, button.header(body))

    # Synchronous: the incident exists when the device gets its answer.
    assert response.status_code == 201
    incident = Incident.objects.get()
    assert response.json() == {
        "ok": True,
        "incident": {"id": incident.pk, "reference": incident.reference},
    }
    assert incident.priority == Priority.P1
    assert incident.sources.get().data == {"device": "TOTEM-0001", "counter": 1}


def test_no_session_or_csrf_token_is_needed(button):
    from django.test import Client

    body = button.body(1)

    response = post(Client(enforce_csrf_checks=True), body, button.header(body))

    assert response.status_code == 201


def test_the_same_press_twice_is_refused_the_second_time_with_409(client, button):
    body = button.body(1)
    post(client, body, button.header(body))

    response = post(client, body, button.header(body))

    assert response.status_code == 409
    assert response.json()["ok"] is False
    assert "already received" in response.json()["error"]
    assert Incident.objects.count() == 1
    assert DeviceRejection.objects.get().reason == DeviceRejection.Reason.REPLAY


def test_a_forged_press_and_an_unknown_device_get_the_same_401(client, button):
    body = button.body(1)
    forged = post(client, body, Button(button.device, "not-the-key").header(body))
    stranger = Button(PanicButton(code="TOTEM-4040"), button.secret)
    unknown_body = stranger.body(1)
    unknown = post(client, unknown_body, stranger.header(unknown_body))

    assert forged.status_code == unknown.status_code == 401
    assert forged.json() == unknown.json()
    assert forged.json()["error"] == "The press could not be authenticated."
    assert not Incident.objects.exists()
    reasons = set(DeviceRejection.objects.values_list("reason", flat=True))
    assert reasons == {DeviceRejection.Reason.BAD_SIGNATURE, DeviceRejection.Reason.UNKNOWN_DEVICE}


def test_a_tampered_body_fails_its_signature(client, button):
    body = button.body(1)
    tampered = body.replace(b'"counter": 1', b'"counter": 2')

    response = post(client, tampered, button.header(body))

    assert response.status_code == 401
    assert not Incident.objects.exists()


def test_a_stale_press_is_refused_with_400(client, button):
    body = button.body(1, sent_at=timezone.now() - timedelta(minutes=5))

    response = post(client, body, button.header(body))

    assert response.status_code == 400
    assert "clock" in response.json()["error"]
    assert DeviceRejection.objects.get().reason == DeviceRejection.Reason.STALE


@pytest.mark.parametrize(
    ("body", "signature", "message"),
    [
        (b"{not json", "sha256=" + "0" * 64, "not valid JSON"),
        (json.dumps({"device": "TOTEM-0001"}).encode(), "sha256=" + "0" * 64, "counter"),
        (None, None, "X-Convive-Signature"),
    ],
)
def test_a_malformed_press_is_refused_with_400_and_kept(client, button, body, signature, message):
    body = body or button.body(1)

    response = post(client, body, signature)

    assert response.status_code == 400
    assert message in response.json()["error"]
    assert DeviceRejection.objects.get().reason == DeviceRejection.Reason.MALFORMED
    assert not Incident.objects.exists()


def test_only_post_is_answered(client, button):
    assert client.get(URL).status_code == 405
    assert not DeviceRejection.objects.exists()


def test_a_press_the_server_cannot_turn_into_an_incident_is_not_a_500(client, button, panic_type):
    panic_type.active = False
    panic_type.save(update_fields=["active"])
    body = button.body(1)

    response = post(client, body, button.header(body))

    assert response.status_code == 400
    assert PanicButton.objects.get().last_counter == 0
