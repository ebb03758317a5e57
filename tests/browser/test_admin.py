"""The admin site, for platform administrators, under the same strict CSP."""

from playwright.sync_api import expect

from tests.browser.helpers import log_in


def test_platform_admin_uses_the_admin_site(page, browser, world, platform_admin, supervisor):
    wide = browser.new_page(viewport={"width": 1280, "height": 900})
    log_in(wide, platform_admin)
    wide.goto("/admin/")
    expect(wide.locator("#site-name")).to_contain_text("Convive")
    wide.goto("/admin/territories/territory/")
    expect(wide.locator("#result_list")).to_contain_text("Kennedy")
    membership = supervisor.active_memberships[0]
    wide.goto(f"/admin/institutions/membership/{membership.pk}/change/")
    expect(wide.locator("#membership_form")).to_be_visible()
    browser.screenshot(wide, "-membership")
    page.close()


def test_other_staff_are_refused_the_admin_site(page, browser, world, dispatcher):
    browser.expect_console_error("403")
    log_in(page, dispatcher)
    page.goto("/admin/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("No tiene permiso")
