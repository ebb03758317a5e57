"""Pages that follow the command centre without a reload: a field unit's phone shows the incident
its unit is sent to, the centre's note and the closure; a dispatcher's incident page shows a unit
moving along, and keeps a form the dispatcher is writing in.

The changes are made "elsewhere" through the actions, off Playwright's thread (as in
``test_console.py``). Pytest-django's live server is WSGI, so the incident page's websocket cannot
connect and it polls; both pages' periods are lowered to one second here so that the waits stay
short. One more test runs the site under Daphne (``test_console.asgi_url``) and
checks that the incident page follows over the websocket, its polls slowed down. A marker set on
the page before the change and read after it proves there was no reload.
"""

from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor

import pytest
from django.db import connection, transaction
from playwright.sync_api import expect

from convive.incidents import views as incident_views
from convive.incidents.actions import (
    check_add_note,
    check_close,
    check_dispatch_unit,
    check_unit_progress,
)
from convive.incidents.models import Incident
from convive.incidents.tests import conftest as incidents_conftest
from convive.incidents.tests.factories import KENNEDY_POINT, IncidentFactory
from convive.units import views as unit_views
from convive.units.models import Unit
from convive.units.tests.factories import UnitFactory
from tests.browser import test_console as console_tests
from tests.browser.conftest import PHONE
from tests.browser.helpers import log_in

types = incidents_conftest.types  # Riña (with its protocol), Robo, SOS
asgi_url = console_tests.asgi_url  # the site under Daphne, in another process

DESK = {"width": 1280, "height": 900}
LIVE_WAIT = 8_000  # ms: a few one-second polls, with slack for a slow machine
MARK = "window.__notReloaded = true"
UNMARKED = "window.__notReloaded !== true"


@pytest.fixture(autouse=True)
def _fast_polls(monkeypatch) -> None:
    monkeypatch.setattr(unit_views, "FIELD_POLL_SECONDS", 1)
    monkeypatch.setattr(incident_views, "LIVE_POLL_SECONDS", 1)


def elsewhere(change: Callable[[], object]) -> None:
    """Run ``change`` in one transaction in another thread: the events published on commit need
    a thread without Playwright's event loop."""

    def run() -> None:
        with transaction.atomic():
            change()
        connection.close()

    with ThreadPoolExecutor(max_workers=1) as pool:
        pool.submit(run).result()


def fresh(model, pk):
    return model.objects.get(pk=pk)


@pytest.fixture
def scene(world, types, field_unit):
    """A patrol crewed by ``field_unit`` and an open fight in Kennedy, nobody sent yet."""
    unit = UnitFactory(institution=world.police, call_sign="PAT-08-1", at=KENNEDY_POINT)
    unit.crew.add(field_unit)
    incident = IncidentFactory(
        city=world.city,
        type=types.rina,
        locality=world.kennedy,
        institution=world.police,
        address="Calle 38 sur # 78-20",
        summary="Dos hombres pelean con cuchillos",
    )
    return unit, incident


def dispatch(dispatcher, unit: Unit, incident: Incident) -> None:
    elsewhere(
        lambda: check_dispatch_unit(
            dispatcher,
            fresh(Incident, incident.pk),
            fresh(Unit, unit.pk),
            expected_incident_version=fresh(Incident, incident.pk).version,
            expected_unit_version=fresh(Unit, unit.pk).version,
        )
    )


def progress(crew, unit: Unit, incident: Incident, step: str) -> None:
    elsewhere(
        lambda: check_unit_progress(
            crew,
            fresh(Incident, incident.pk),
            fresh(Unit, unit.pk),
            step=step,
            expected_unit_version=fresh(Unit, unit.pk).version,
        )
    )


def test_the_phone_shows_a_dispatch_a_note_and_the_closure_without_a_reload(
    page, browser, scene, dispatcher, field_unit
):
    unit, incident = scene
    log_in(page, field_unit)
    page.goto("/units/field/")
    expect(page.get_by_test_id("no-incident")).to_be_visible()
    browser.screenshot(page, "-waiting")
    page.evaluate(MARK)

    dispatch(dispatcher, unit, incident)
    box = page.get_by_test_id("field-incident")
    expect(box).to_contain_text("Dos hombres pelean con cuchillos", timeout=LIVE_WAIT)
    expect(box).to_contain_text(incident.reference)
    expect(page.get_by_test_id("unit-status")).to_have_text("Despachada")
    expect(page.locator("[data-live-announce]")).to_contain_text(incident.reference)
    browser.screenshot(page, "-dispatched")
    assert not page.evaluate(UNMARKED), "the page was reloaded"

    # The buttons that came with the refresh carry the unit's current version: no 409.
    page.get_by_test_id("step-en_route").click()
    expect(page.locator(".message.success")).to_be_visible()
    assert fresh(Unit, unit.pk).status == Unit.Status.EN_ROUTE
    page.evaluate(MARK)

    elsewhere(
        lambda: check_add_note(
            dispatcher, fresh(Incident, incident.pk), body="El agresor lleva camisa roja"
        )
    )
    expect(page.get_by_test_id("field-updates")).to_contain_text(
        "El agresor lleva camisa roja", timeout=LIVE_WAIT
    )
    browser.screenshot(page, "-note")

    elsewhere(
        lambda: check_close(
            dispatcher,
            fresh(Incident, incident.pk),
            outcome="Riña disuelta",
            expected_version=fresh(Incident, incident.pk).version,
        )
    )
    expect(page.get_by_test_id("incident-closed")).to_contain_text(
        incident.reference, timeout=LIVE_WAIT
    )
    expect(page.get_by_test_id("unit-status")).to_have_text("Disponible")
    expect(page.get_by_test_id("field-incident")).to_have_count(0)
    assert not page.evaluate(UNMARKED), "the page was reloaded"


def test_the_phone_keeps_a_reason_being_written(page, browser, scene, dispatcher, field_unit):
    unit, incident = scene
    log_in(page, field_unit)
    page.goto("/units/field/")
    page.get_by_test_id("out-of-service").locator("summary").click()
    reason = page.locator(f"#reason-{unit.pk}")
    reason.fill("Pinchazo")

    dispatch(dispatcher, unit, incident)
    expect(page.get_by_test_id("field-incident")).to_contain_text(
        incident.reference, timeout=LIVE_WAIT
    )
    expect(reason).to_have_value("Pinchazo")  # not cleared by the refresh
    expect(page.get_by_test_id("live-notice")).to_be_visible()
    browser.screenshot(page, "-kept")


def test_the_incident_page_follows_a_unit_moving_along(browser, scene, dispatcher, field_unit):
    unit, incident = scene
    dispatch(dispatcher, unit, incident)
    desk = browser.new_page(viewport=DESK)
    log_in(desk, dispatcher)
    desk.goto(f"/console/incidents/{incident.pk}/")
    status = desk.get_by_test_id("assignment-status-PAT-08-1")
    expect(status).to_have_text("Despachada")
    expect(desk.locator("[data-live-status]")).to_contain_text("1 s")  # polling: no websocket
    desk.evaluate(MARK)

    # On the phone, elsewhere, the crew reports that they are on their way.
    progress(field_unit, unit, incident, "en_route")
    expect(status).to_have_text("En camino", timeout=LIVE_WAIT)
    expect(desk.get_by_test_id("incident-status")).to_contain_text("Unidad en camino")
    expect(desk.get_by_test_id("timeline")).to_contain_text("Unidad en camino")
    assert not desk.evaluate(UNMARKED), "the page was reloaded"
    browser.screenshot(desk)

    # The forms nobody was writing in now carry the current version: the next action goes through.
    version = fresh(Incident, incident.pk).version
    priority = desk.get_by_test_id("action-priority")
    expect(priority.locator("input[name=priority-version]")).to_have_value(str(version))
    priority.locator("summary").click()
    priority.locator("select[name=priority-priority]").select_option("1")
    priority.locator("[name=priority-reason]").fill("Hay un herido")
    priority.locator("button[type=submit]").click()
    expect(desk.locator(".message.success")).to_be_visible()
    assert fresh(Incident, incident.pk).priority == 1

    phone = browser.new_page(like=desk)
    phone.goto(f"/console/incidents/{incident.pk}/")
    phone.evaluate(MARK)
    progress(field_unit, unit, incident, "on_scene")
    expect(phone.get_by_test_id("assignment-status-PAT-08-1")).to_have_text(
        "En el lugar", timeout=LIVE_WAIT
    )
    assert not phone.evaluate(UNMARKED), "the page was reloaded"
    browser.screenshot(phone, "-phone")
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]


def test_a_form_being_written_in_is_kept_with_a_notice(browser, scene, dispatcher, field_unit):
    unit, incident = scene
    dispatch(dispatcher, unit, incident)
    desk = browser.new_page(viewport=DESK)
    log_in(desk, dispatcher)
    desk.goto(f"/console/incidents/{incident.pk}/")
    shown = str(fresh(Incident, incident.pk).version)
    close = desk.get_by_test_id("action-close")
    close.locator("summary").click()
    outcome = close.locator("textarea")
    outcome.fill("Riña disuelta, sin heridos")

    progress(field_unit, unit, incident, "en_route")
    expect(desk.get_by_test_id("assignment-status-PAT-08-1")).to_have_text(
        "En camino", timeout=LIVE_WAIT
    )
    notice = close.get_by_test_id("live-notice")
    expect(notice).to_be_visible()
    expect(notice.get_by_role("link")).to_be_visible()  # reload
    expect(outcome).to_have_value("Riña disuelta, sin heridos")
    expect(close.locator("input[name=close-version]")).to_have_value(shown)
    browser.screenshot(desk)

    # Once nothing is being written, the panel catches up with the incident.
    outcome.fill("")
    desk.get_by_test_id("incident-title").click()
    current = str(fresh(Incident, incident.pk).version)
    expect(close.locator("input[name=close-version]")).to_have_value(current)
    expect(desk.get_by_test_id("live-notice")).to_have_count(0)
    expect(close).to_have_attribute("open", "")  # still open where the dispatcher left it


@pytest.fixture
def _slow_polls(_fast_polls, monkeypatch) -> None:
    """Polls too slow to matter: what reaches the page in time came over the websocket."""
    monkeypatch.setattr(incident_views, "LIVE_POLL_SECONDS", 600)
    monkeypatch.setattr(unit_views, "FIELD_POLL_SECONDS", 600)


@pytest.mark.usefixtures("_slow_polls")  # before asgi_url: the server process starts with it
def test_the_incident_page_follows_over_the_websocket(
    browser, asgi_url, scene, dispatcher, field_unit
):
    unit, incident = scene
    dispatch(dispatcher, unit, incident)
    browser.base_url = asgi_url
    desk = browser.new_page(viewport=DESK)
    log_in(desk, dispatcher)
    desk.goto(f"/console/incidents/{incident.pk}/")
    expect(desk.locator("[data-live-status].live")).to_be_visible()
    desk.evaluate(MARK)

    # The crew, on their phone (served by the same ASGI site), report that they are on the way.
    phone = browser.new_page()
    log_in(phone, field_unit)
    phone.goto("/units/field/")
    phone.get_by_test_id("step-en_route").click()
    expect(phone.locator(".message.success")).to_be_visible()
    phone.close()

    expect(desk.get_by_test_id("assignment-status-PAT-08-1")).to_have_text(
        "En camino", timeout=4_000
    )
    expect(desk.get_by_test_id("timeline")).to_contain_text("Unidad en camino")
    assert not desk.evaluate(UNMARKED), "the page was reloaded"
    browser.screenshot(desk)
    desk.close()  # before the server stops: no request of the page is cut short
