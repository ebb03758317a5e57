"""The call form's place type-ahead, by keyboard: a few letters of a neighbourhood or a justice
service, the arrow keys and Enter, and the point, its territory and the duplicates follow."""

from playwright.sync_api import expect

from convive.incidents.models import Incident
from convive.incidents.tests import conftest as incidents_conftest
from convive.incidents.tests.factories import IncidentFactory
from tests.browser.helpers import log_in

types = incidents_conftest.types  # Riña (with its protocol), Robo, SOS

DESK = {"width": 1280, "height": 900}


def test_a_call_taker_picks_the_place_from_the_city_gazetteer(browser, world, types, call_taker):
    browser.expect_console_error("WebSocket")  # no websocket server behind the WSGI live server
    earlier = IncidentFactory(  # the same fight, reported a moment ago in Timiza's park
        city=world.city,
        type=types.rina,
        locality=world.kennedy,
        institution=world.police,
        lon=world.timiza.centroid_lon,
        lat=world.timiza.centroid_lat,
    )
    page = browser.new_page(viewport=DESK)
    log_in(page, call_taker)
    page.goto("/console/call/")
    page.get_by_test_id("type-search").press_sequentially("Riña")
    page.keyboard.press("Tab")

    address = page.locator("#id_address")
    address.press_sequentially("casa kenn")
    options = page.get_by_test_id("place-option")
    expect(options).to_have_count(1)
    expect(options.first).to_contain_text("Casa de Justicia de Kennedy")
    address.fill("")
    address.press_sequentially("timi")
    expect(options.first).to_contain_text("Timiza")
    expect(options.first).to_contain_text("Kennedy")  # its locality, to tell twins apart
    expect(address).to_have_attribute("aria-expanded", "true")
    browser.screenshot(page, "-options")
    address.press("Enter")  # chooses the place; the form is not sent

    expect(page.get_by_test_id("place-options")).to_be_hidden()
    expect(address).to_have_value("Timiza")
    expect(page.locator("#id_lat")).not_to_have_value("")
    expect(page.locator("[data-place-status]")).to_contain_text("Timiza")
    expect(page.get_by_test_id("place-hint")).to_be_visible()  # an area: its centre
    expect(page.get_by_test_id("duplicates")).to_contain_text(earlier.reference)
    assert Incident.objects.count() == 1  # Enter chose the place and sent nothing
    browser.screenshot(page, "-chosen")

    address.press("End")
    address.press_sequentially(", frente al parque")
    page.keyboard.press("Escape")
    page.locator("#id_summary").press_sequentially("Riña en el parque")
    page.locator("#id_summary").press("Enter")
    expect(page.get_by_test_id("incident-title")).to_contain_text("INC-")
    incident = Incident.objects.exclude(pk=earlier.pk).get()
    assert incident.address == "Timiza, frente al parque"
    assert (incident.locality, incident.neighbourhood) == (world.kennedy, world.timiza)
    assert (incident.lon, incident.lat) == (
        round(world.timiza.centroid_lon, 6),
        round(world.timiza.centroid_lat, 6),
    )
