"""Staff work citizens' reports in the inbox: on a phone, and on a desk.

The forms are found by their test ids and field names, not by their words, so that the test
holds in Spanish and in English.
"""

from playwright.sync_api import expect

from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from convive.reports.models import Report
from convive.reports.tests import conftest as reports_conftest
from convive.reports.tests.conftest import SUBA_POINT
from convive.reports.tests.test_inbox import a_photo, make_report
from tests.browser.helpers import log_in

catalogue = reports_conftest.catalogue  # the reports tests' categories and rules, as a fixture


def act(page, name: str) -> None:
    """Open the action's panel if it is closed (the reply panel starts open)."""
    panel = page.get_by_test_id(f"action-{name}")
    if panel.get_attribute("open") is None:
        panel.locator("summary").click()


def submit(page, name: str) -> None:
    page.get_by_test_id(f"action-{name}").locator("button[type=submit]").click()


def test_a_call_taker_works_the_fallback_queue_on_a_phone(
    page, browser, catalogue, world, call_taker, citizen
):
    make_report("alumbrado", description="Poste apagado frente a la iglesia.")
    report = make_report(
        "ruido",
        SUBA_POINT,  # no rule for noise in Suba: the fallback queue
        reporter=citizen,
        description="Música a todo volumen todas las noches en el conjunto.",
        address="Calle 145 # 91-19",
        contact_email="lucia@example.org",
        photos=[a_photo()],
    )
    log_in(page, call_taker)
    page.goto("/inbox/")
    expect(page.get_by_test_id("inbox-table")).to_be_visible()
    expect(page.get_by_test_id("inbox-report")).to_have_count(2)

    page.locator("#id_unrouted").check()
    page.get_by_test_id("inbox-filters").locator("button[type=submit]").click()
    expect(page.get_by_test_id("inbox-report")).to_have_count(1)
    browser.screenshot(page, "-inbox")
    page.get_by_test_id("inbox-report").click()

    expect(page.get_by_test_id("routing-note")).to_contain_text("Suba")
    expect(page.get_by_test_id("description")).to_contain_text("Música a todo volumen")
    expect(page.locator(".report-map svg circle.point")).to_have_count(1)
    photo = page.locator(".photos img")
    expect(photo).to_have_count(1)
    photo.scroll_into_view_if_needed()  # loading="lazy": fetched once near the screen
    photo.evaluate("img => img.decode()")  # rejects if the inbox's photo view sent no image
    assert photo.evaluate("img => img.naturalWidth") > 0

    page.locator("#id_reply-body").fill("Recibido: pasamos su reporte a la Policía.")
    submit(page, "reply")
    expect(page.locator(".message.success")).to_be_visible()
    expect(page.get_by_test_id("timeline")).to_contain_text("pasamos su reporte")

    act(page, "status")
    browser.expect_console_error("400 (Bad Request)")
    page.locator("#id_status-status").select_option("resolved")
    submit(page, "status")  # without the outcome: refused, the form stays open with the reason
    expect(page.get_by_test_id("action-status").locator(".errorlist")).to_be_visible()
    browser.screenshot(page, "-refused")
    page.locator("#id_status-status").select_option("in_progress")
    page.locator("#id_status-text").fill("Se verificará con una visita esta semana.")
    submit(page, "status")
    expect(page.get_by_test_id("report-status").locator(".status-in_progress")).to_be_visible()
    browser.screenshot(page, "-detail")

    act(page, "reroute")
    page.locator("#id_reroute-institution").select_option(str(world.police.pk))
    page.locator("#id_reroute-reason").fill("Hay riñas: lo atiende la Policía.")
    submit(page, "reroute")
    # The report left the secretariat's queue: back to the inbox, with the message.
    page.wait_for_url("**/inbox/")
    expect(page.locator(".message.success")).to_contain_text(world.police.name)

    report.refresh_from_db()
    assert report.institution == world.police
    assert report.status == Report.Status.IN_PROGRESS
    tags = set(AuditEvent.objects.filter(subject_id=str(report.pk)).values_list("tag", flat=True))
    assert {
        AuditTag.REPORT_DETAIL_VIEWED,
        AuditTag.REPORT_REPLY_SENT,
        AuditTag.REPORT_STATUS_CHANGED,
        AuditTag.REPORT_INSTITUTION_CHANGED,
    } <= tags


def test_a_supervisor_hides_a_report_at_a_desk(page, browser, catalogue, supervisor, citizen):
    make_report("alumbrado")  # the secretariat's: not in this inbox
    make_report("robo", description="Me robaron el celular en el paradero.")
    abusive = make_report("robo", reporter=citizen, description="jajaja prueba insultos")
    wide = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(wide, supervisor)
    wide.goto("/inbox/")
    expect(wide.get_by_test_id("inbox-report")).to_have_count(2)
    wide.locator(f"tr[data-report='{abusive.pk}'] [data-testid=inbox-report]").click()

    act(wide, "hide")
    wide.locator("#id_hide-reason").fill("Insultos; no describe ningún problema.")
    submit(wide, "hide")
    expect(wide.get_by_test_id("hidden")).to_be_visible()
    expect(wide.get_by_test_id("timeline").locator("[data-internal=true]")).to_contain_text(
        "Insultos"
    )
    expect(wide.get_by_test_id("action-show")).to_be_visible()
    browser.screenshot(wide, "-desk")

    abusive.refresh_from_db()
    assert abusive.is_hidden
    assert AuditEvent.objects.filter(tag=AuditTag.REPORT_HIDDEN, actor_username="supervisora")
    page.close()
