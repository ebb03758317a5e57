"""What anyone sees without an account: home, privacy, territories, API docs, language."""

import re

from playwright.sync_api import expect

PHONE_POINT_IN_KENNEDY = ("4.60", "-74.15")


def test_home_leads_each_audience_to_its_area(page, browser, world):
    page.goto("/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Convive")
    for audience in ("Ciudadanía", "Centro de mando", "Instituciones", "Analistas"):
        expect(page.get_by_role("heading", name=re.compile(audience))).to_be_visible()
    expect(page.locator(".emergency-note")).to_contain_text("123")
    wide = browser.new_page(viewport={"width": 1280, "height": 800})
    wide.goto("/")
    browser.screenshot(wide, "-desktop")


def test_keyboard_users_can_skip_to_the_content(page, world):
    page.goto("/")
    page.keyboard.press("Tab")
    skip = page.get_by_role("link", name="Ir al contenido")
    expect(skip).to_be_focused()
    page.keyboard.press("Enter")
    expect(page).to_have_url(re.compile("#main$"))


def test_privacy_notice(page, world):
    page.goto("/privacy/")
    expect(page.get_by_role("heading", level=1)).to_have_text("Privacidad")
    expect(page.locator("main")).to_contain_text("Argon2")


def test_territories_can_be_browsed_and_a_point_located(page, world):
    page.goto("/territories/")
    page.get_by_role("link", name=re.compile("Testópolis")).first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Testópolis")
    expect(page.locator("svg").first).to_be_visible()
    lat, lon = PHONE_POINT_IN_KENNEDY
    page.get_by_label("Latitud").fill(lat)
    page.get_by_label("Longitud").fill(lon)
    page.get_by_role("button", name=re.compile("Buscar|Ubicar|Localizar")).click()
    expect(page.locator("main")).to_contain_text("Kennedy")
    page.get_by_role("link", name="Kennedy").first.click()
    expect(page.get_by_role("heading", level=1)).to_contain_text("Kennedy")
    expect(page.locator("main")).to_contain_text("Timiza")


def test_a_point_that_is_not_a_number_gets_a_form_error(page, world):
    page.goto(f"/territories/{world.city.slug}/?lat=norte&lon=-74.1")
    expect(page.locator(".errorlist").first).to_be_visible()


def test_api_documentation_is_served_by_the_site(page, world):
    page.goto("/api/docs")
    expect(page.locator("#swagger-ui")).to_contain_text("/api/v1/territories")


def test_language_can_be_switched_to_english(page, world):
    page.goto("/")
    page.get_by_label("Idioma").select_option("en")
    page.get_by_role("button", name="Cambiar").click()
    expect(page.get_by_role("navigation").get_by_role("link", name="Log in")).to_be_visible()
    expect(page.locator("html")).to_have_attribute("lang", "en")
