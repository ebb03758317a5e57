"""The live console's websocket: who may connect, and which committed changes each role receives.

Each test drives the real ASGI application (``convive.asgi``: origin check, session, user) on the
in-memory channel layer. A scenario runs as one coroutine; the writes in it run through
``sync_to_async`` on the test's own thread and database connection, so a transaction can be
opened in one step and committed in a later one (not ``database_sync_to_async``: it closes a
connection found inside a transaction).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest
from asgiref.sync import async_to_sync, sync_to_async
from channels.testing import WebsocketCommunicator
from django.conf import settings as django_settings
from django.db import transaction
from django.test import Client

from conftest import MODEL_BACKEND, login
from convive.incidents.access import incidents_for
from convive.incidents.actions import check_change_priority
from convive.incidents.consumers import CLOSE_ANONYMOUS, CLOSE_FORBIDDEN
from convive.incidents.tests.factories import IncidentFactory
from convive.territories.tests.factories import CityFactory
from convive.units.actions import check_change_unit_status
from convive.units.models import Unit
from convive.units.tests.factories import UnitFactory

IN_MEMORY = {"default": {"BACKEND": "channels.layers.InMemoryChannelLayer"}}
QUIET = 0.3  # seconds to wait for a message that must not come


@pytest.fixture(autouse=True)
def _in_memory_layer(settings):
    """The in-memory layer even when REDIS_URL is set (the settings then pick Redis)."""
    settings.CHANNEL_LAYERS = IN_MEMORY


def cookie_of(user: Any, *, two_factor: bool = True) -> bytes:
    client = Client()
    if two_factor:
        login(client, user)
    else:
        client.force_login(user, backend=MODEL_BACKEND)
    name = django_settings.SESSION_COOKIE_NAME
    return f"{name}={client.cookies[name].value}".encode()


def console(cookie: bytes | None = None) -> WebsocketCommunicator:
    from convive.asgi import application

    headers = [(b"origin", b"http://testserver")]
    if cookie is not None:
        headers.append((b"cookie", cookie))
    return WebsocketCommunicator(application, "/ws/console/", headers=headers)


def run(scenario: Callable) -> Any:
    return async_to_sync(scenario)()


def close_code(cookie: bytes | None) -> int:
    async def scenario() -> int:
        communicator = console(cookie)
        connected, _ = await communicator.connect()
        assert connected
        message = await communicator.receive_output(timeout=2)
        assert message["type"] == "websocket.close"
        await communicator.wait()
        return message["code"]

    return run(scenario)


def reprioritise(actor: Any, incident: Any, priority: int = 1) -> None:
    incident.refresh_from_db()
    check_change_priority(
        actor,
        incident,
        priority=priority,
        reason="Hay armas.",
        expected_version=incident.version,
    )


def committed(change: Callable[[], None]) -> Callable[[], None]:
    def step() -> None:
        with transaction.atomic():
            change()

    return sync_to_async(step)


# --- Who may connect ----------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_anonymous_is_refused_with_4401(world):
    assert close_code(None) == CLOSE_ANONYMOUS


@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("persona_name", ["citizen", "analyst", "field_unit", "institution_admin"])
def test_people_without_the_console_are_refused_with_4403(persona_name, request, world):
    user = request.getfixturevalue(persona_name)
    assert close_code(cookie_of(user)) == CLOSE_FORBIDDEN


@pytest.mark.django_db(transaction=True)
def test_a_call_taker_without_the_second_factor_is_refused(call_taker):
    assert close_code(cookie_of(call_taker, two_factor=False)) == CLOSE_FORBIDDEN


@pytest.mark.django_db(transaction=True)
def test_a_device_of_someone_else_does_not_pass_the_second_factor(call_taker, dispatcher):
    from django.contrib.sessions.backends.db import SessionStore
    from django_otp import DEVICE_ID_SESSION_KEY

    from conftest import confirmed_device

    cookie = cookie_of(call_taker, two_factor=False)
    session = SessionStore(cookie.decode().split("=", 1)[1])
    session[DEVICE_ID_SESSION_KEY] = confirmed_device(dispatcher).persistent_id
    session.save()
    assert close_code(cookie) == CLOSE_FORBIDDEN


@pytest.mark.django_db(transaction=True)
def test_an_unknown_origin_is_refused(call_taker):
    from convive.asgi import application

    cookie = cookie_of(call_taker)

    async def scenario() -> bool:
        headers = [(b"origin", b"http://evil.example"), (b"cookie", cookie)]
        communicator = WebsocketCommunicator(application, "/ws/console/", headers=headers)
        connected, _ = await communicator.connect()
        return connected

    assert run(scenario) is False


# --- What arrives -------------------------------------------------------------------------------


@pytest.mark.django_db(transaction=True)
def test_a_call_taker_receives_their_city_after_commit_and_not_another_city(
    call_taker, incident, types
):
    elsewhere = IncidentFactory(city=CityFactory(slug="otra"), type=types.robo)
    cookie = cookie_of(call_taker)
    atomic = transaction.atomic()

    def begin_and_change() -> None:
        atomic.__enter__()
        reprioritise(call_taker, incident)

    def commit() -> None:
        atomic.__exit__(None, None, None)

    async def scenario() -> dict:
        communicator = console(cookie)
        connected, _ = await communicator.connect()
        assert connected
        await sync_to_async(begin_and_change)()
        assert await communicator.receive_nothing(timeout=QUIET)  # not committed yet
        await sync_to_async(commit)()
        message = await communicator.receive_json_from(timeout=2)
        await committed(lambda: reprioritise(call_taker, elsewhere))()
        assert await communicator.receive_nothing(timeout=QUIET)
        await communicator.disconnect()
        return message

    message = run(scenario)
    assert message["type"] == "incident.changed"
    event = message["event"]
    assert event["incident_id"] == incident.pk
    assert event["step"] == "priority_changed"
    assert event["priority"] == 1
    assert event["version"] == incident.version  # as committed (the action bumped it)


@pytest.mark.django_db(transaction=True)
def test_a_rolled_back_change_never_arrives(dispatcher, incident):
    cookie = cookie_of(dispatcher)

    def change_then_fail() -> None:
        with transaction.atomic():
            reprioritise(dispatcher, incident)
            transaction.set_rollback(True)  # as when the request fails after the action

    async def scenario() -> None:
        communicator = console(cookie)
        connected, _ = await communicator.connect()
        assert connected
        await sync_to_async(change_then_fail)()
        assert await communicator.receive_nothing(timeout=QUIET)
        await communicator.disconnect()

    run(scenario)
    incident.refresh_from_db()
    assert incident.priority != 1


@pytest.mark.django_db(transaction=True)
def test_a_supervisor_of_kennedy_receives_kennedy_and_not_suba(supervisor, world, types):
    kennedy = IncidentFactory(
        city=world.city, type=types.rina, institution=world.police, locality=world.kennedy
    )
    timiza = IncidentFactory(
        city=world.city,
        type=types.rina,
        institution=world.secretariat,
        locality=world.kennedy,
        neighbourhood=world.timiza,
    )
    # Suba's, even when the supervisor's own institution handles it: the membership is narrowed.
    suba = IncidentFactory(
        city=world.city, type=types.robo, institution=world.police, locality=world.suba
    )
    cookie = cookie_of(supervisor)

    async def scenario() -> list[int]:
        communicator = console(cookie)
        connected, _ = await communicator.connect()
        assert connected
        for incident in (suba, kennedy, timiza):
            await committed(lambda incident=incident: reprioritise(supervisor, incident))()
        received = []
        while not await communicator.receive_nothing(timeout=QUIET):
            received.append((await communicator.receive_json_from())["event"]["incident_id"])
        await communicator.disconnect()
        return received

    assert run(scenario) == [kennedy.pk, timiza.pk]
    # The same answer as the HTTP reads.
    visible = set(incidents_for(supervisor).values_list("pk", flat=True))
    assert {kennedy.pk, timiza.pk} <= visible
    assert suba.pk not in visible


@pytest.mark.django_db(transaction=True)
def test_a_unit_status_change_reaches_the_console_after_commit(dispatcher, supervisor, world):
    unit = UnitFactory(institution=world.police, call_sign="K-1", at=(-74.15, 4.60))
    other_city_unit = UnitFactory(institution__city=CityFactory(slug="lejos"))
    cookie = cookie_of(dispatcher)

    def change(target: Unit) -> None:
        target.refresh_from_db()
        check_change_unit_status(
            dispatcher, target, status=Unit.Status.DISPATCHED, expected_version=target.version
        )

    async def scenario() -> dict:
        communicator = console(cookie)
        connected, _ = await communicator.connect()
        assert connected
        await committed(lambda: change(other_city_unit))()
        assert await communicator.receive_nothing(timeout=QUIET)
        await committed(lambda: change(unit))()
        message = await communicator.receive_json_from(timeout=2)
        assert await communicator.receive_nothing(timeout=QUIET)
        await communicator.disconnect()
        return message

    message = run(scenario)
    assert message["type"] == "unit.changed"
    assert message["event"]["unit_id"] == unit.pk
    assert message["event"]["status"] == Unit.Status.DISPATCHED
    assert message["event"]["version"] == 2


@pytest.mark.django_db(transaction=True)
def test_a_supervisor_sees_only_their_institutions_units_move(supervisor, world):
    from django.utils import timezone

    from convive.units.actions import PositionInput, check_record_positions_batch

    police_unit = UnitFactory(institution=world.police, call_sign="P-1")
    secretariat_unit = UnitFactory(institution=world.secretariat, call_sign="S-1")
    cookie = cookie_of(supervisor)

    def move() -> None:
        now = timezone.now()
        police = Unit.objects.select_related("institution__city").get(pk=police_unit.pk)
        other = Unit.objects.select_related("institution__city").get(pk=secretariat_unit.pk)
        check_record_positions_batch(
            [
                PositionInput(police, -74.15, 4.60, now, "api"),
                PositionInput(other, -74.05, 4.70, now, "api"),
            ]
        )

    async def scenario() -> dict:
        communicator = console(cookie)
        connected, _ = await communicator.connect()
        assert connected
        await committed(move)()
        message = await communicator.receive_json_from(timeout=2)
        assert await communicator.receive_nothing(timeout=QUIET)
        await communicator.disconnect()
        return message

    message = run(scenario)
    assert message["type"] == "units.moved"
    (position,) = message["event"]["positions"]
    assert position[:3] == [police_unit.pk, -74.15, 4.60]
    assert "institution_ids" not in message["event"]


@pytest.mark.django_db(transaction=True)
def test_a_platform_admin_receives_every_city(platform_admin, incident, types):
    elsewhere = IncidentFactory(city=CityFactory(slug="otra"), type=types.robo)
    cookie = cookie_of(platform_admin)

    async def scenario() -> list[int]:
        communicator = console(cookie)
        connected, _ = await communicator.connect()
        assert connected
        for target in (incident, elsewhere):
            await committed(lambda target=target: reprioritise(platform_admin, target))()
        received = [(await communicator.receive_json_from(timeout=2))["event"]["incident_id"]]
        received.append((await communicator.receive_json_from(timeout=2))["event"]["incident_id"])
        await communicator.disconnect()
        return received

    assert run(scenario) == [incident.pk, elsewhere.pk]


@pytest.mark.django_db(transaction=True)
def test_messages_from_the_browser_change_nothing(dispatcher, incident):
    cookie = cookie_of(dispatcher)
    before = incident.version

    async def scenario() -> None:
        communicator = console(cookie)
        connected, _ = await communicator.connect()
        assert connected
        await communicator.send_json_to({"type": "incident.close", "incident_id": incident.pk})
        assert await communicator.receive_nothing(timeout=QUIET)
        await communicator.disconnect()

    run(scenario)
    incident.refresh_from_db()
    assert incident.version == before


# --- The filter agrees with the HTTP reads -------------------------------------------------------


@pytest.mark.parametrize("narrowed", [True, False], ids=["narrowed", "institution-wide"])
def test_the_console_filter_is_the_access_rule(narrowed, world, types):
    from dataclasses import asdict

    from django_otp import DEVICE_ID_SESSION_KEY

    from conftest import confirmed_device
    from convive.accounts.roles import Role
    from convive.accounts.tests.factories import UserFactory
    from convive.incidents.consumers import console_grant
    from convive.incidents.events import IncidentChanged
    from convive.institutions.tests.factories import MembershipFactory

    user = UserFactory(username="supervisor_policia")
    territories = [world.kennedy] if narrowed else None
    MembershipFactory(
        user=user, institution=world.police, role=Role.SUPERVISOR, territories=territories
    )
    other_city = CityFactory(slug="otra")
    incidents = [
        IncidentFactory(city=world.city, type=types.rina, locality=world.kennedy),
        IncidentFactory(city=world.city, type=types.rina, neighbourhood=world.timiza),
        IncidentFactory(city=world.city, type=types.rina, locality=world.suba),
        IncidentFactory(
            city=world.city, type=types.rina, locality=world.suba, institution=world.police
        ),
        IncidentFactory(city=world.city, type=types.rina, institution=world.secretariat),
        IncidentFactory(city=other_city, type=types.robo),
    ]
    grant = console_grant(user, {DEVICE_ID_SESSION_KEY: confirmed_device(user).persistent_id})
    assert grant.refusal is None
    visible = set(incidents_for(user).values_list("pk", flat=True))
    forwarded = {
        i.pk for i in incidents if grant.may_see_incident(asdict(IncidentChanged.of(i, "note")))
    }
    assert forwarded == visible & {i.pk for i in incidents}
    assert incidents[0].pk in forwarded
    # Suba: outside a membership narrowed to Kennedy, inside the police's coverage otherwise.
    assert (incidents[2].pk in forwarded) is not narrowed
    assert (incidents[3].pk in forwarded) is not narrowed
    assert incidents[5].pk not in forwarded


@pytest.mark.django_db(transaction=True)
def test_consoles_of_one_process_share_one_channel_of_the_layer(call_taker, dispatcher, incident):
    from channels.layers import get_channel_layer

    from convive.incidents.events import incidents_group

    cookies = [cookie_of(call_taker), cookie_of(dispatcher)]
    group = incidents_group(incident.city_id)

    async def scenario() -> tuple[int, list[int], int]:
        consoles = [console(cookie) for cookie in cookies]
        for communicator in consoles:
            connected, _ = await communicator.connect()
            assert connected
        layer = get_channel_layer()
        members = len(layer.groups.get(group, {}))
        await committed(lambda: reprioritise(dispatcher, incident))()
        received = [
            (await c.receive_json_from(timeout=2))["event"]["incident_id"] for c in consoles
        ]
        for communicator in consoles:
            await communicator.disconnect()
        return members, received, len(layer.groups.get(group, {}))

    members, received, left = run(scenario)
    assert members == 1  # the process's hub, not one copy per console
    assert received == [incident.pk, incident.pk]
    assert left == 0
