"""The command centre in several browsers at once: a call-taker takes a call with the keyboard,
a dispatcher sees it appear on the console and dispatches the recommended unit, the unit's crew
moves it along on a phone, and a dispatcher acting on a stale page is told so.

Pytest-django's live server is WSGI, so there the console's websocket cannot connect and the page
falls back to polling ``queue.json`` every 10 s. One more test runs the site under Daphne (ASGI,
in another process that shares the committed test data) and checks that the console shows a new
call within a few seconds, over the websocket.
"""

from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from functools import partial

import pytest
from django.db import connection, transaction
from playwright.sync_api import expect

from convive.incidents import views as incident_views
from convive.incidents.actions import check_dispatch_unit
from convive.incidents.models import Assignment, Incident
from convive.incidents.tests import conftest as incidents_conftest
from convive.incidents.tests.factories import KENNEDY_POINT, IncidentFactory
from convive.units.models import Unit
from convive.units.tests.factories import UnitFactory
from tests.browser.conftest import PHONE
from tests.browser.helpers import log_in

types = incidents_conftest.types  # Riña (with its protocol), Robo, SOS

DESK = {"width": 1280, "height": 900}
POLL_WAIT = 25_000  # ms: one polling round (10 s) and some slack


def allow_expected_errors(browser) -> None:
    browser.expect_console_error("WebSocket")  # no websocket server behind the WSGI live server
    browser.expect_console_error("409")  # the stale dispatch answers 409 Conflict, on purpose


def patrol(world, call_sign: str, crew=None) -> Unit:
    unit = UnitFactory(institution=world.police, call_sign=call_sign, at=KENNEDY_POINT)
    if crew is not None:
        unit.crew.add(crew)
    return unit


def assert_fits(page, width: int) -> None:
    scroll = page.evaluate("document.documentElement.scrollWidth")
    assert scroll <= width, f"the page is {scroll}px wide on a {width}px screen"


def test_a_call_taker_takes_a_call_with_the_keyboard(browser, world, types, call_taker):
    allow_expected_errors(browser)
    earlier = IncidentFactory(
        city=world.city, type=types.rina, locality=world.kennedy, institution=world.police
    )
    page = browser.new_page(viewport=DESK)
    log_in(page, call_taker)
    page.goto("/console/")
    expect(page.get_by_test_id("queue")).to_contain_text(earlier.reference)
    page.keyboard.press("n")  # the shortcut for a new call
    page.wait_for_url("**/console/call/")

    expect(page.get_by_test_id("type-search")).to_be_focused()
    page.keyboard.type("riña")
    page.keyboard.press("Tab")
    expect(page.get_by_test_id("type-search")).to_have_value("Riña")
    expect(page.locator("[data-protocol-type=rina]")).to_be_visible()
    expect(page.locator("[data-protocol-type=sos]")).to_be_hidden()
    page.locator("#id_address").press_sequentially("Calle 38 sur # 78-20")
    page.locator("#id_lat").press_sequentially(str(KENNEDY_POINT[1]))
    page.locator("#id_lon").press_sequentially(str(KENNEDY_POINT[0]))
    page.keyboard.press("Tab")
    expect(page.locator("[data-place-status]")).to_contain_text("Kennedy")
    duplicates = page.get_by_test_id("duplicates")
    expect(duplicates).to_contain_text(earlier.reference)  # offered, not chosen: a new incident
    page.locator("#id_answer-rina-armas").press_sequentially("Sí, cuchillos")
    page.locator("#id_caller_phone").press_sequentially("3001234567")
    summary = page.locator("#id_summary")
    summary.press_sequentially("Dos hombres pelean con cuchillos frente a la tienda")
    browser.screenshot(page, "-form")
    summary.press("Enter")

    expect(page.get_by_test_id("incident-title")).to_contain_text("INC-")
    incident = Incident.objects.exclude(pk=earlier.pk).get()
    assert incident.locality == world.kennedy
    assert incident.protocol_answers == {"armas": "Sí, cuchillos"}
    assert incident.sources.get().caller_phone == "3001234567"
    expect(page.get_by_test_id("timeline")).to_contain_text(call_taker.get_full_name())
    browser.screenshot(page)
    assert_fits(page, DESK["width"])

    # The same form on a phone: one column, nothing wider than the screen.
    phone = browser.new_page(like=page)
    phone.goto("/console/call/")
    phone.get_by_test_id("type-search").press_sequentially("Riña")
    phone.keyboard.press("Tab")
    expect(phone.locator("[data-protocol-type=rina]")).to_be_visible()
    browser.screenshot(phone, "-phone")
    assert_fits(phone, PHONE["width"])


def test_a_dispatcher_sees_the_new_call_and_dispatches(
    browser, world, types, call_taker, dispatcher
):
    allow_expected_errors(browser)
    unit = patrol(world, "PAT-08-1")
    console = browser.new_page(viewport=DESK)
    log_in(console, dispatcher)
    console.goto("/console/")
    expect(console.get_by_test_id("unit-board")).to_contain_text("PAT-08-1")
    expect(console.get_by_test_id("queue").locator("tbody tr[data-incident-id]")).to_have_count(0)

    # Meanwhile, in another browser, a call-taker takes the call.
    taker = browser.new_page(viewport=DESK)
    log_in(taker, call_taker)
    taker.goto("/console/call/")
    taker.get_by_test_id("type-search").press_sequentially("Riña")
    taker.locator("#id_lat").fill(str(KENNEDY_POINT[1]))
    taker.locator("#id_lon").fill(str(KENNEDY_POINT[0]))
    taker.locator("#id_summary").fill("Riña en el parque")
    taker.get_by_test_id("save-call").click()
    expect(taker.get_by_test_id("incident-title")).to_be_visible()
    incident = Incident.objects.get()

    # The dispatcher's console shows it without a reload.
    row = console.locator(f"tr[data-incident-id='{incident.pk}']")
    expect(row).to_be_visible(timeout=POLL_WAIT)
    browser.screenshot(console, "-console")
    row.get_by_role("link", name=incident.reference).click()

    recommendations = console.get_by_test_id("recommendations")
    expect(recommendations).to_contain_text("PAT-08-1")
    console.get_by_test_id("dispatch-PAT-08-1").click()
    expect(console.locator(".message.success")).to_contain_text("PAT-08-1")
    expect(console.get_by_test_id("assignments")).to_contain_text("PAT-08-1")
    assert Assignment.objects.get().unit == unit
    browser.screenshot(console)
    assert_fits(console, DESK["width"])

    # The same incident on a phone: readable, nothing wider than the screen.
    phone = browser.new_page(like=console)
    phone.goto(f"/console/incidents/{incident.pk}/")
    expect(phone.get_by_test_id("timeline")).to_contain_text("PAT")
    browser.screenshot(phone, "-phone")
    assert_fits(phone, PHONE["width"])
    phone.goto("/console/")
    expect(phone.get_by_test_id("queue")).to_contain_text(incident.reference)
    browser.screenshot(phone, "-console-phone")
    assert_fits(phone, PHONE["width"])


def test_a_field_unit_moves_along_on_a_phone(page, browser, world, types, dispatcher, field_unit):
    allow_expected_errors(browser)
    unit = patrol(world, "PAT-08-1", crew=field_unit)
    incident = IncidentFactory(
        city=world.city,
        type=types.rina,
        locality=world.kennedy,
        institution=world.police,
        summary="Dos hombres pelean con cuchillos",
    )

    def dispatch() -> None:
        with transaction.atomic():
            check_dispatch_unit(
                dispatcher, incident, unit, expected_incident_version=1, expected_unit_version=1
            )
        connection.close()

    # Off Playwright's thread: the events published on commit need a thread without a loop.
    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(dispatch).result()
    log_in(page, field_unit)
    page.goto("/units/field/")
    expect(page.get_by_test_id("field-incident")).to_contain_text("Dos hombres pelean")
    expect(page.get_by_test_id("open-in-maps")).to_have_attribute("href", "geo:4.600000,-74.150000")
    browser.screenshot(page, "-dispatched")
    for step, status in (
        ("en_route", Unit.Status.EN_ROUTE),
        ("on_scene", Unit.Status.ON_SCENE),
    ):
        page.get_by_test_id(f"step-{step}").click()
        expect(page.locator(".message.success")).to_be_visible()
        assert Unit.objects.get(pk=unit.pk).status == status
    expect(page.get_by_test_id("step-en_route")).to_be_disabled()
    browser.screenshot(page, "-on-scene")
    page.get_by_test_id("step-cleared").click()
    expect(page.get_by_test_id("no-incident")).to_be_visible()
    assert Unit.objects.get(pk=unit.pk).status == Unit.Status.AVAILABLE
    assert Incident.objects.get(pk=incident.pk).status == Incident.Status.CLEARED


def test_a_stale_dispatch_shows_the_conflict(browser, world, types, dispatcher, monkeypatch):
    # The incident page refreshes itself (versions included) on each poll: this page must stay
    # stale for the test, as a page whose refresh has not come yet.
    monkeypatch.setattr(incident_views, "LIVE_POLL_SECONDS", 600)
    allow_expected_errors(browser)
    patrol(world, "PAT-08-1")
    patrol(world, "PAT-08-2")
    incident = IncidentFactory(
        city=world.city, type=types.rina, locality=world.kennedy, institution=world.police
    )
    first = browser.new_page(viewport=DESK)
    log_in(first, dispatcher)
    second = browser.new_page(viewport=DESK, like=first)
    for page in (first, second):
        page.goto(f"/console/incidents/{incident.pk}/")
        expect(page.get_by_test_id("recommendations")).to_contain_text("PAT-08-2")

    first.get_by_test_id("dispatch-PAT-08-1").click()
    expect(first.locator(".message.success")).to_be_visible()
    second.get_by_test_id("dispatch-PAT-08-2").click()  # rendered before the first dispatch
    expect(second.locator(".message.error")).to_contain_text("Otra persona hizo cambios")
    expect(second.get_by_test_id("assignments")).to_contain_text("PAT-08-1")
    assert [a.unit.call_sign for a in Assignment.objects.all()] == ["PAT-08-1"]
    browser.screenshot(second)


def _no_setup() -> None:
    """The forked server inherits the test database's settings as they are."""


@pytest.fixture
def asgi_url(browser, transactional_db, settings) -> Iterator[str]:
    """The site under Daphne, HTTP and websockets, in a forked process that reaches the same
    test database (on SQLite, a file: see ``django_db_modify_db_settings`` in the root conftest).

    The pages are closed before the server stops: a live page left open would try to reconnect
    to a stopped server and report ``ERR_CONNECTION_REFUSED``, which is not the test's failure.
    """
    from channels.testing.live import make_application
    from daphne.testing import DaphneProcess
    from django.contrib.staticfiles.handlers import ASGIStaticFilesHandler

    settings.ALLOWED_HOSTS = [*settings.ALLOWED_HOSTS, "localhost", "127.0.0.1"]
    process = DaphneProcess(
        "127.0.0.1",
        partial(make_application, static_wrapper=ASGIStaticFilesHandler),
        setup=_no_setup,
    )
    process.start()
    assert process.ready.wait(timeout=20), "Daphne did not start"
    yield f"http://127.0.0.1:{process.port.value}"
    browser.close()
    process.terminate()
    process.join(timeout=10)


def test_the_console_shows_a_new_call_over_the_websocket(
    browser, asgi_url, world, types, call_taker, dispatcher
):
    browser.base_url = asgi_url
    console = browser.new_page(viewport=DESK)
    log_in(console, dispatcher)
    console.goto("/console/")
    expect(console.locator("[data-live-status].live")).to_be_visible()
    taker = browser.new_page(viewport=DESK)
    log_in(taker, call_taker)
    taker.goto("/console/call/")
    taker.get_by_test_id("type-search").press_sequentially("Riña")
    taker.locator("#id_address").fill("Parque de Timiza")
    taker.get_by_test_id("save-call").click()
    expect(taker.get_by_test_id("incident-title")).to_be_visible()
    incident = Incident.objects.get()
    # Well before the next poll (10 s): the websocket brought it.
    row = console.locator(f"tr[data-incident-id='{incident.pk}']")
    expect(row).to_be_visible(timeout=4_000)
    browser.screenshot(console)
