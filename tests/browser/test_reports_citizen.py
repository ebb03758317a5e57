"""The citizen's side in a phone-sized Chromium: report with a photo and a map pin, report while
offline and see it arrive exactly once, follow it with the code, read the institution's reply,
SOS (the notice first), the page without JavaScript or with slow scripts, and its weight."""

import gzip
import io
import re

import pytest
from django.core.cache import cache
from django.core.management import call_command
from django.db import transaction
from PIL import Image
from playwright.sync_api import expect

from convive.reports.actions import ReportInput, check_create_report, check_reply
from convive.reports.models import Report, ReportPhoto
from convive.reports.tests.conftest import KENNEDY_POINT, catalogue  # noqa: F401 (fixture)
from tests.browser.conftest import PHONE

WEIGHT_BUDGET = 200 * 1024  # bytes, compressed, before photos
KENNEDY_BOUNDS = (-74.20, 4.58, -74.10, 4.66)


@pytest.fixture(autouse=True)
def _fresh_rate_limits():
    cache.clear()
    yield
    cache.clear()


def a_jpeg() -> dict:
    buffer = io.BytesIO()
    Image.new("RGB", (800, 600), (30, 110, 160)).save(buffer, "JPEG", quality=80)
    return {"name": "poste.jpg", "mimeType": "image/jpeg", "buffer": buffer.getvalue()}


def wait_for_map(page) -> None:
    """Leaflet is loaded and has drawn the city's localities from the site's GeoJSON."""
    expect(page.locator("#report-map .leaflet-overlay-pane path").first).to_be_attached()


def click_in_kennedy(page) -> None:
    """Tap the middle of Kennedy (the first locality, by code) on the map."""
    page.locator("#report-map").scroll_into_view_if_needed()  # a tap lands only on screen
    box = page.locator("#report-map .leaflet-overlay-pane path").first.bounding_box()
    page.mouse.click(box["x"] + box["width"] * 0.5, box["y"] + box["height"] * 0.5)


def make_report(**overrides) -> Report:
    lon, lat = KENNEDY_POINT
    values = {
        "category_code": "alumbrado",
        "idempotency_key": "browser-test-0001",
        "channel": Report.Channel.WEB,
        "lon": lon,
        "lat": lat,
        "description": "El poste de la esquina está apagado.",
        "anonymous": True,
    }
    with transaction.atomic():
        report, _ = check_create_report(None, ReportInput(**{**values, **overrides}))
    return report


def test_report_with_a_photo_and_a_map_pin(page, browser, catalogue):  # noqa: F811
    page.goto("/report/")
    wait_for_map(page)
    page.locator("select[name=category]").select_option("alumbrado")
    click_in_kennedy(page)
    lat = float(page.locator("input[name=lat]").input_value())
    lon = float(page.locator("input[name=lon]").input_value())
    min_lon, min_lat, max_lon, max_lat = KENNEDY_BOUNDS
    assert min_lat < lat < max_lat
    assert min_lon < lon < max_lon
    expect(page.locator("#report-map .leaflet-marker-icon")).to_be_visible()
    expect(page.locator("[data-place-status]")).to_contain_text("Kennedy")
    page.locator("textarea[name=description]").fill("El poste de la esquina está apagado.")
    page.locator("#id_photos").set_input_files(a_jpeg())
    expect(page.locator("[data-testid=contact-fields]")).to_be_hidden()  # anonymous by default
    browser.screenshot(page, "-form")
    page.locator("[data-testid=submit-report]").click()
    expect(page.locator("[data-testid=report-received]")).to_be_visible()
    report = Report.objects.get()
    expect(page.locator("[data-testid=tracking-code]")).to_have_text(report.display_code)
    expect(page.locator("[data-testid=tracking-qr] svg")).to_be_visible()
    photo = page.locator("[data-testid=report-photos] img")
    photo.scroll_into_view_if_needed()  # loading="lazy": fetched once near the screen
    photo.evaluate("img => img.decode()")  # rejects if no image came back
    assert photo.evaluate("img => img.naturalWidth") == 800
    assert (report.is_anonymous, report.channel) == (True, Report.Channel.WEB)
    assert report.locality.name == "Kennedy"
    assert ReportPhoto.objects.filter(report=report).count() == 1
    wide = browser.new_page(viewport={"width": 1280, "height": 800})
    wide.goto("/report/")
    wait_for_map(wide)
    browser.screenshot(wide, "-desktop")


def test_report_while_offline_arrives_exactly_once(page, browser, catalogue):  # noqa: F811
    page.goto("/report/")
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("caches.has && caches.keys().then(k => k.length > 0)")
    page.locator("select[name=category]").select_option("alumbrado")
    page.locator("input[name=address]").fill("Calle 38 Sur con Carrera 78")
    page.locator("textarea[name=description]").fill("Sin luz desde el viernes.")
    page.locator("#id_photos").set_input_files(a_jpeg())
    key = page.locator("input[name=idempotency_key]").input_value()
    page.context.set_offline(True)
    page.locator("[data-testid=submit-report]").click()
    expect(page.locator("[data-testid=queue-saved]")).to_be_visible()
    browser.screenshot(page, "-saved")
    assert Report.objects.count() == 0
    assert page.locator("input[name=idempotency_key]").input_value() != key  # a new form
    page.context.set_offline(False)
    expect(page.locator("[data-testid=queue-sent]")).to_be_visible()
    report = Report.objects.get()
    assert report.idempotency_key == key
    assert report.photos.count() == 1
    expect(page.locator("[data-testid=queued-code]")).to_have_text(report.display_code)
    expect(page.locator("[data-testid=queue-saved]")).to_have_count(0)
    browser.screenshot(page, "-arrived")
    page.reload()  # another flush finds nothing left to send
    page.wait_for_load_state("networkidle")
    assert Report.objects.count() == 1


def test_double_tap_and_reload_offline(page, browser, catalogue):  # noqa: F811
    page.goto("/report/")
    page.evaluate("navigator.serviceWorker.ready")
    page.wait_for_function("caches.match('/report/').then(Boolean)")
    page.locator("select[name=category]").select_option("alumbrado")
    page.locator("input[name=address]").fill("Parque de Timiza")
    page.evaluate(
        "() => { const f = document.getElementById('report-form'); f.requestSubmit(); "
        "f.requestSubmit(); }"
    )
    expect(page.locator("[data-testid=report-received]")).to_be_visible()
    assert Report.objects.count() == 1
    # The page shell was kept by the service worker: it opens without a connection.
    page.context.set_offline(True)
    page.goto("/report/")
    expect(page.locator("[data-testid=report-form]")).to_be_visible()
    page.context.set_offline(False)


def test_follow_with_the_code_and_read_the_reply(page, browser, catalogue, call_taker):  # noqa: F811
    report = make_report()
    page.goto("/report/track/")
    page.locator("input[name=code]").fill(report.display_code.lower())
    page.locator("[data-testid=track-form] button[type=submit]").click()
    expect(page.locator("[data-testid=tracking-code]")).to_have_text(report.display_code)
    with transaction.atomic():
        check_reply(call_taker, report, body="Mañana pasa la cuadrilla de alumbrado.")
    page.reload()
    reply = page.locator("[data-testid=timeline] [data-kind=reply]")
    expect(reply).to_contain_text("Mañana pasa la cuadrilla de alumbrado.")
    expect(reply).to_contain_text("Secretaría de Seguridad")
    page.locator("textarea[name=body]").fill("Gracias, seguimos sin luz.")
    page.locator("[data-testid=message-form] button[type=submit]").click()
    expect(page.locator("[data-testid=timeline] [data-kind=citizen]")).to_contain_text(
        "Gracias, seguimos sin luz."
    )


def test_sos_shows_the_emergency_notice_first(page, browser, catalogue):  # noqa: F811
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": KENNEDY_POINT[1], "longitude": KENNEDY_POINT[0]})
    page.goto("/report/")
    page.locator("[data-testid=sos-link]").click()
    expect(page.locator("[data-testid=emergency-notice]")).to_be_visible()
    expect(page.locator("[data-testid=call-button]")).to_have_attribute("href", "tel:123")
    expect(page.locator("[data-testid=sos-form]")).to_be_hidden()  # nothing to send yet
    browser.screenshot(page, "-notice")
    page.locator("[data-testid=sos-send] > summary").click()
    expect(page.locator("[data-testid=sos-form]")).to_be_visible()
    expect(page.locator("#sos-form input[name=lat]")).not_to_have_value("")  # GPS, at once
    page.locator("#sos-form input[name=confirm]").check()
    page.locator("[data-testid=send-sos]").click()
    expect(page.locator("[data-testid=report-received]")).to_be_visible()
    report = Report.objects.get()
    assert (report.status, report.category.code, report.is_urgent) == ("sos", "sos", True)
    assert report.locality.name == "Kennedy"
    expect(page.locator("[data-testid=report-status]")).to_have_class(re.compile("status-sos"))


def test_urgent_category_on_the_report_page_shows_the_notice(page, browser, catalogue):  # noqa: F811
    page.goto("/report/")
    notice = page.locator("#report-form [data-testid=emergency-notice]")
    expect(notice).to_be_hidden()
    page.locator("select[name=category]").select_option("sos")
    expect(notice).to_be_visible()
    expect(notice.locator("[data-testid=call-button]")).to_have_attribute("href", "tel:123")
    page.locator("input[name=address]").fill("Portal Américas")
    page.locator("[data-testid=submit-report]").click()  # not confirmed: the browser stops it
    assert Report.objects.count() == 0
    page.locator("input[name=emergency_confirmed]").check()
    page.locator("[data-testid=submit-report]").click()
    expect(page.locator("[data-testid=report-received]")).to_be_visible()
    assert Report.objects.get().status == Report.Status.SOS


def test_category_questions_follow_the_chosen_category(page, browser, catalogue):  # noqa: F811
    page.goto("/report/")
    questions = page.locator("[data-testid=questions-ruido]")
    expect(questions).to_be_hidden()
    page.locator("select[name=category]").select_option("ruido")
    expect(questions).to_be_visible()
    page.locator("input[name=address]").fill("Barrio Timiza")
    browser.screenshot(page, "-questions")
    page.locator("[data-testid=submit-report]").click()  # the required answer is missing
    assert Report.objects.count() == 0
    questions.locator("select").select_option("noche")
    page.locator("[data-testid=submit-report]").click()
    expect(page.locator("[data-testid=report-received]")).to_be_visible()
    assert Report.objects.get().answers == {"horario": "noche"}


def test_server_errors_are_shown_next_to_the_field(page, browser, catalogue):  # noqa: F811
    browser.expect_console_error("status of 400")
    page.goto("/report/")
    page.locator("select[name=category]").select_option("alumbrado")
    page.locator("input[name=lat]").evaluate("input => input.closest('details').open = true")
    page.locator("input[name=lat]").fill("-30")
    page.locator("input[name=lon]").fill("-60")  # a point outside every city
    page.locator("[data-testid=submit-report]").click()
    error = page.locator("#place .js-error")
    expect(error).to_be_visible()
    assert Report.objects.count() == 0
    expect(page.locator("[data-testid=submit-report]")).to_be_enabled()


def test_report_page_works_without_javascript(browser, live_server, catalogue):  # noqa: F811
    context = browser.chromium.new_context(
        viewport=PHONE, locale="es-CO", base_url=live_server.url, java_script_enabled=False
    )
    browser.contexts.append(context)
    page = context.new_page()
    page.goto("/report/")
    expect(page.locator("#report-map")).to_be_hidden()
    page.locator("select[name=category]").select_option("ruido")
    page.locator("select[name=q__ruido__horario]").select_option("dia")
    page.locator("input[name=address]").fill("Frente al colegio de Timiza")
    page.locator("#id_photos").set_input_files(a_jpeg())
    browser.screenshot(page, "")
    page.locator("[data-testid=submit-report]").click()
    expect(page.locator("[data-testid=report-received]")).to_be_visible()
    report = Report.objects.get()
    assert report.answers == {"horario": "dia"}
    assert report.photos.count() == 1
    browser.screenshot(page, "-received")


def test_form_is_usable_before_slow_scripts_arrive(page, browser, catalogue):  # noqa: F811
    held = []
    page.route(re.compile(r"/static/(reports/js|vendor/leaflet)/.*\.js"), lambda r: held.append(r))
    page.goto("/report/", wait_until="commit")
    page.locator("select[name=category]").select_option("alumbrado")
    page.locator("input[name=address]").fill("Calle 40 Sur")
    page.locator("[data-testid=submit-report]").click()
    expect(page.locator("[data-testid=report-received]")).to_be_visible()
    assert Report.objects.count() == 1
    assert held  # the scripts were still on their way when the form was sent
    page.unroute_all(behavior="ignoreErrors")


def test_my_reports_and_the_home_page_lead_to_reporting(page, browser, catalogue, citizen):  # noqa: F811
    from tests.browser.helpers import log_in

    log_in(page, citizen)
    page.goto("/report/")
    page.locator("select[name=category]").select_option("alumbrado")
    page.locator("input[name=address]").fill("Parque de Kennedy")
    page.locator("input[name=anonymous]").uncheck()
    page.locator("input[name=contact_email]").fill("ana@example.org")
    page.locator("[data-testid=submit-report]").click()
    expect(page.locator("[data-testid=report-received]")).to_be_visible()
    page.goto("/report/mine/")
    report = Report.objects.get()
    expect(page.locator("[data-testid=my-reports]")).to_contain_text(report.display_code)
    assert report.reporter == citizen
    assert report.contact_email == "ana@example.org"


def test_report_page_weighs_at_most_200_kb(browser, live_server, settings):
    """HTML, CSS, scripts, Leaflet, icons and the demo city's GeoJSON, compressed (gzip)."""
    call_command("load_demo", verbosity=0)
    call_command("install_catalogue", verbosity=0)
    settings.MAP_TILE_URL = ""
    context = browser.chromium.new_context(
        viewport=PHONE, locale="es-CO", base_url=live_server.url, service_workers="block"
    )
    browser.contexts.append(context)
    page = context.new_page()
    page.on("console", lambda m: browser.errors.append(m.text) if m.type == "error" else None)
    loaded: dict[str, int] = {}

    def measure(response) -> None:
        if not response.url.startswith(live_server.url) or response.status >= 300:
            return
        body = response.body()
        loaded[response.url] = min(len(body), len(gzip.compress(body, 9)))

    page.on("response", measure)
    page.goto("/report/")
    expect(page.locator("#report-map .leaflet-overlay-pane path").first).to_be_attached()
    page.wait_for_load_state("networkidle")
    browser.screenshot(page, "")
    total = sum(loaded.values())
    for url, size in sorted(loaded.items(), key=lambda item: -item[1]):
        print(f"{size:>8} B  {url.removeprefix(live_server.url)}")  # noqa: T201 (the figures)
    print(f"report page: {total / 1024:.1f} KB compressed in {len(loaded)} resources")  # noqa: T201
    assert any("/layers/locality" in url for url in loaded)
    assert any("leaflet.js" in url for url in loaded)
    assert total <= WEIGHT_BUDGET


def test_me_too_on_a_nearby_report(page, browser, catalogue):  # noqa: F811
    existing = make_report(description="Poste apagado frente al parque")
    page.context.grant_permissions(["geolocation"])
    page.context.set_geolocation({"latitude": KENNEDY_POINT[1], "longitude": KENNEDY_POINT[0]})
    page.goto("/report/")
    page.locator("select[name=category]").select_option("alumbrado")
    page.locator("[data-testid=gps-button]").click()
    suggestion = page.locator("[data-testid=nearby-report]")
    expect(suggestion).to_have_count(1)
    expect(suggestion).to_contain_text("Poste apagado frente al parque")
    browser.screenshot(page, "-suggested")
    suggestion.get_by_role("button").click()
    expect(suggestion.get_by_role("status")).to_be_visible()
    existing.refresh_from_db()
    assert existing.supporters_count == 1
    assert Report.objects.count() == 1  # "me too" made no new report


def test_a_saved_report_refused_later_can_be_corrected(page, browser, catalogue):  # noqa: F811
    browser.expect_console_error("status of 400")
    page.goto("/report/")
    page.locator("select[name=category]").select_option("ruido")
    page.locator("[data-testid=questions-ruido] select").select_option("noche")
    page.locator("input[name=address]").fill("Esquina de la panadería")
    page.locator("input[name=lat]").evaluate("input => input.closest('details').open = true")
    page.locator("input[name=lat]").fill("-30")
    page.locator("input[name=lon]").fill("-60")  # only the server knows it is outside the city
    page.context.set_offline(True)
    page.locator("[data-testid=submit-report]").click()
    expect(page.locator("[data-testid=queue-saved]")).to_be_visible()
    page.context.set_offline(False)
    status = page.locator("[data-testid=queue-status]")
    expect(status).to_have_class(re.compile("failed"))
    browser.screenshot(page, "-failed")
    assert Report.objects.count() == 0
    status.get_by_role("button").first.click()  # put it back in the form
    expect(page.locator("input[name=address]")).to_have_value("Esquina de la panadería")
    expect(page.locator("select[name=category]")).to_have_value("ruido")
    expect(page.locator("[data-testid=questions-ruido] select")).to_have_value("noche")
    expect(status).to_be_hidden()
    page.locator("input[name=lat]").fill("")
    page.locator("input[name=lon]").fill("")
    page.locator("[data-testid=submit-report]").click()
    expect(page.locator("[data-testid=report-received]")).to_be_visible()
    report = Report.objects.get()
    assert report.address == "Esquina de la panadería"
    assert report.answers == {"horario": "noche"}
