"""A citizen presses SOS on a phone and watches the command centre's response move, without
reloading: a dispatcher (second browser) finds the SOS in the console's queue and sends the
recommended patrol, whose crew (third browser, a phone) marks it en route and on scene. The
centre closes the incident (the SOS closes with it), then a supervisor reopens it (the SOS opens
again)."""

import pytest
from django.core.cache import cache
from playwright.sync_api import expect

from convive.incidents.models import Incident, IncidentSource
from convive.incidents.tests import conftest as incidents_conftest
from convive.reports.models import Report
from convive.reports.tests.conftest import KENNEDY_POINT, catalogue  # noqa: F401 (fixture)
from convive.units.tests.factories import UnitFactory
from tests.browser.conftest import PHONE
from tests.browser.helpers import log_in

types = incidents_conftest.types  # Riña, Robo, SOS

DESK = {"width": 1280, "height": 900}


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def test_the_citizen_who_sent_an_sos_sees_it_move(
    browser,
    world,
    catalogue,  # noqa: F811
    types,
    dispatcher,
    supervisor,
    field_unit,
    settings,
):
    settings.REPORT_LIVE_SECONDS = 1  # the page asks every second instead of every 20
    browser.expect_console_error("WebSocket")  # no websocket server behind the WSGI live server
    unit = UnitFactory(institution=world.police, call_sign="PAT-11-1", at=KENNEDY_POINT)
    unit.crew.add(field_unit)

    # The citizen, anonymous, on a phone with GPS.
    citizen = browser.new_page(viewport=PHONE)
    citizen.context.grant_permissions(["geolocation"])
    citizen.context.set_geolocation({"latitude": KENNEDY_POINT[1], "longitude": KENNEDY_POINT[0]})
    citizen.goto("/report/sos/")
    citizen.locator("[data-testid=sos-send] > summary").click()
    expect(citizen.locator("#sos-form input[name=lat]")).not_to_have_value("")
    citizen.locator("#sos-form input[name=confirm]").check()
    citizen.locator("[data-testid=send-sos]").click()
    expect(citizen.locator("[data-testid=report-received]")).to_be_visible()
    status = citizen.get_by_test_id("incident-status-label")
    expect(status).to_have_text("Recibida por el centro de mando")
    browser.screenshot(citizen, "-received")
    citizen.evaluate("window.notReloaded = true")  # gone if the page were loaded again

    report = Report.objects.get()
    incident = Incident.objects.get()
    assert IncidentSource.objects.get(incident=incident).report == report
    assert incident.priority == 1

    # The dispatcher finds it at the top of the queue and sends the recommended patrol.
    desk = browser.new_page(viewport=DESK)
    log_in(desk, dispatcher)
    desk.goto("/console/")
    row = desk.locator(f"tr[data-incident-id='{incident.pk}']")
    expect(row).to_contain_text("P1")
    desk.goto(f"/console/incidents/{incident.pk}/")
    expect(desk.get_by_test_id("recommendations")).to_contain_text("PAT-11-1")
    desk.get_by_test_id("dispatch-PAT-11-1").click()
    expect(desk.locator(".message.success")).to_be_visible()

    # The citizen's page follows by itself.
    expect(status).to_have_text("Se envió una unidad")
    expect(citizen.get_by_test_id("incident-steps")).to_contain_text("Se envió una unidad")

    # The patrol's crew moves it along on their phone.
    crew = browser.new_page(viewport=PHONE)
    log_in(crew, field_unit)
    crew.goto("/units/field/")
    crew.get_by_test_id("step-en_route").click()
    expect(crew.locator(".message.success")).to_be_visible()
    expect(status).to_have_text("Una unidad va en camino")
    crew.get_by_test_id("step-on_scene").click()
    expect(crew.locator(".message.success")).to_be_visible()
    expect(status).to_have_text("Una unidad está en el lugar")
    steps = citizen.get_by_test_id("incident-steps")
    expect(steps).to_contain_text("La unidad llegó")
    expect(steps).not_to_contain_text("PAT-11-1")  # never which unit, nor who
    browser.screenshot(citizen, "-on-scene")
    assert citizen.evaluate("window.notReloaded") is True

    # The centre closes the incident: the SOS closes with it and the citizen may rate the answer.
    desk.goto(f"/console/incidents/{incident.pk}/")
    desk.get_by_test_id("action-close").locator("summary").click()
    desk.get_by_test_id("action-close").locator("textarea").fill("Agresor retenido.")
    desk.get_by_test_id("action-close").get_by_role("button").click()
    expect(desk.locator(".message.success")).to_be_visible()
    expect(citizen.get_by_test_id("rating-form")).to_be_visible()  # the page reloaded by itself
    expect(status).to_have_text("Cerrado")
    expect(citizen.get_by_test_id("report-status")).to_have_text("Cerrado")
    expect(citizen.locator(".report-outcome, [data-testid=timeline]")).to_contain_text(
        "El centro de mando cerró la atención de su alerta"
    )
    expect(citizen.get_by_test_id("timeline")).not_to_contain_text("Agresor")
    browser.screenshot(citizen, "-closed")

    # A supervisor reopens the incident: the alert is open again, and the citizen is told so.
    boss = browser.new_page(viewport=DESK)
    log_in(boss, supervisor)
    boss.goto(f"/console/incidents/{incident.pk}/")
    boss.get_by_test_id("action-reopen").locator("summary").click()
    boss.get_by_test_id("action-reopen").locator("textarea").fill("La víctima llama de nuevo.")
    boss.get_by_test_id("action-reopen").get_by_role("button").click()
    expect(boss.locator(".message.success")).to_be_visible()
    citizen.reload()
    expect(citizen.get_by_test_id("report-status")).to_have_text("SOS recibido")
    expect(citizen.get_by_test_id("timeline")).to_contain_text(
        "El centro de mando reabrió la atención de su alerta"
    )
    expect(citizen.get_by_test_id("rating-form")).to_be_hidden()
    expect(citizen.get_by_test_id("incident-status-label")).to_be_visible()
    browser.screenshot(citizen, "-reopened")
