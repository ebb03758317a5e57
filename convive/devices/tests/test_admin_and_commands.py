"""Registering a button on the command line, the admin site, and the listener command."""

from io import StringIO

import pytest
from django.core.management import CommandError, call_command

from conftest import login
from convive.devices.actions import check_panic_press
from convive.devices.models import DeviceRejection, PanicButton
from convive.devices.tests.conftest import KENNEDY_POINT, Button
from convive.devices.wire import parse_http_press

pytestmark = pytest.mark.usefixtures("english")  # messages are compared in English


def create(*args: str) -> tuple[str, str]:
    out, err = StringIO(), StringIO()
    call_command("create_panic_button", *args, stdout=out, stderr=err)
    return out.getvalue().strip(), err.getvalue()


def test_the_command_registers_a_button_and_prints_its_key_once(world, panic_type):
    secret, note = create(
        "testopolis",
        "TOTEM-0007",
        "--name=Parque Timiza",
        f"--lon={KENNEDY_POINT[0]}",
        f"--lat={KENNEDY_POINT[1]}",
        "--institution=policia",
    )

    device = PanicButton.objects.get()
    assert (device.code, device.institution, device.secret) == ("TOTEM-0007", world.police, secret)
    assert "not shown again" in note
    # The printed key is the one the server checks.
    button = Button(device, secret)
    body = button.body(1)
    assert check_panic_press(parse_http_press(body, button.header(body)), source="http").pk


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["nowhere", "TOTEM-1"], "No city"),
        (["testopolis", "TOTEM-1", "--institution=nadie"], "No institution"),
        (["testopolis", "TOTEM/1"], "code"),
    ],
)
def test_the_command_refuses_what_it_cannot_register(world, args, says):
    with pytest.raises(CommandError, match=says):
        create(*args, "--name=X", f"--lon={KENNEDY_POINT[0]}", f"--lat={KENNEDY_POINT[1]}")
    assert not PanicButton.objects.exists()


def test_the_admin_never_shows_a_buttons_key(client, platform_admin, button):
    login(client, platform_admin)

    page = client.get(f"/admin/devices/panicbutton/{button.device.pk}/change/")

    assert page.status_code == 200
    assert button.secret not in page.content.decode()
    assert client.get("/admin/devices/panicbutton/add/").status_code == 403


def test_the_admin_action_changes_the_key_and_shows_the_new_one_once(
    client, platform_admin, button
):
    login(client, platform_admin)

    response = client.post(
        "/admin/devices/panicbutton/",
        {"action": "rotate_key", "_selected_action": [button.device.pk]},
        follow=True,
    )

    button.device.refresh_from_db()
    assert button.device.secret != button.secret
    assert button.device.secret in response.content.decode()
    later = client.get(f"/admin/devices/panicbutton/{button.device.pk}/change/")
    assert button.device.secret not in later.content.decode()


def test_refused_messages_are_read_only_in_the_admin(client, platform_admin, button):
    rejection = DeviceRejection.objects.create(device_code="X", reason="malformed", source="http")
    login(client, platform_admin)

    assert client.get("/admin/devices/devicerejection/").status_code == 200
    change = client.get(f"/admin/devices/devicerejection/{rejection.pk}/change/")
    assert change.status_code == 200
    assert 'name="reason"' not in change.content.decode()
    assert client.get("/admin/devices/devicerejection/add/").status_code == 403


def test_staff_without_the_admin_site_see_no_devices(client, dispatcher, button):
    login(client, dispatcher)

    assert client.get("/admin/devices/panicbutton/").status_code in {302, 403}
    assert client.get("/admin/devices/devicerejection/").status_code in {302, 403}


def test_the_listener_command_runs_the_listener_with_the_settings(settings, monkeypatch):
    settings.MQTT_URL = "mqtt://broker.example:1884"
    settings.MQTT_TOPIC_PREFIX = "ciudad"
    settings.MQTT_CLIENT_ID = "convive-test"
    seen = {}

    def run_forever(self):
        seen.update(host=self.broker.host, port=self.broker.port, prefix=self.prefix)
        raise KeyboardInterrupt

    monkeypatch.setattr("convive.integrations.mqtt.listener.Listener.run_forever", run_forever)
    monkeypatch.setattr("convive.integrations.mqtt.listener.Listener.stop", lambda self: None)

    call_command("mqtt_listen", stderr=StringIO())

    assert seen == {"host": "broker.example", "port": 1884, "prefix": "ciudad"}


def test_the_admin_offers_only_institutions_of_the_buttons_city(client, platform_admin, button):
    from convive.institutions.tests.factories import InstitutionFactory
    from convive.territories.tests.factories import CityFactory

    elsewhere = InstitutionFactory(city=CityFactory(slug="otra"), name="Policía de Otra")
    login(client, platform_admin)

    page = client.get(f"/admin/devices/panicbutton/{button.device.pk}/change/").content.decode()

    assert "Policía Metropolitana" in page
    assert "Policía de Otra" not in page
    assert elsewhere.pk
