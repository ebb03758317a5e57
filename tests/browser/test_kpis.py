"""An analyst reads the response-time figures on a phone and downloads them as CSV."""

from pathlib import Path

from playwright.sync_api import expect

from convive.analytics.tests import conftest as analytics_conftest
from convive.analytics.tests.conftest import DAY
from tests.browser.helpers import log_in

cases = analytics_conftest.cases  # the four hand-made incidents, as a fixture


def test_an_analyst_reads_the_figures_and_downloads_the_csv(page, browser, cases, analyst):
    log_in(page, analyst)
    page.goto("/kpis/")
    filters = page.get_by_test_id("kpi-filters")
    filters.locator("#id_start").fill(DAY.isoformat())
    filters.locator("#id_end").fill(DAY.isoformat())
    filters.locator("button[type=submit]").click()

    expect(page.get_by_test_id("kpi-count")).to_contain_text("4")
    table = page.get_by_test_id("kpi-table-locality")
    expect(table).to_be_visible()
    expect(table.locator("tbody tr")).to_have_count(2)
    expect(table).to_contain_text("Kennedy")
    charts = page.get_by_test_id("kpi-chart")
    expect(charts).to_have_count(5)
    expect(charts.first.locator("text.value").first).to_be_visible()
    expect(page.get_by_test_id("kpi-table-all")).to_contain_text("24 s")  # answer p90 23.6 s
    browser.screenshot(page, "-figures")

    with page.expect_download() as download_info:
        page.get_by_test_id("kpi-export").click()
    download = download_info.value
    assert download.suggested_filename == "kpis-2026-11-20-2026-11-20.csv"
    text = Path(download.path()).read_text(encoding="utf-8")
    lines = text.splitlines()
    assert lines[0].startswith("grouping,key,label,incidents,answer_n")
    assert lines[1].startswith("all,,")
    assert ",4,3,18.0,23.6," in lines[1]


def test_a_date_range_backwards_is_refused_with_a_message(page, browser, world, analyst):
    log_in(page, analyst)
    browser.expect_console_error("400 (Bad Request)")
    page.goto("/kpis/?start=2026-11-20&end=2026-11-01")
    expect(page.get_by_test_id("kpi-filters").locator(".errorlist")).to_be_visible()
    expect(page.get_by_test_id("kpi-table-all")).to_have_count(0)
