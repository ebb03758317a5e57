"""Administrators read, filter, verify and export the audit log."""

from django.db import transaction
from playwright.sync_api import expect

from convive.core.audit import record_audit_event
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag
from tests.browser.helpers import log_in


def record_some_events(world, supervisor, institution_admin, call_taker) -> None:
    with transaction.atomic():
        record_audit_event(supervisor, AuditTag.ACCOUNT_LOGIN_SUCCEEDED, data={"ip": "10.0.0.1"})
        record_audit_event(
            institution_admin,
            AuditTag.INSTITUTION_MEMBER_ADDED,
            subject=supervisor,
            data={"role": "supervisor", "territories": ["08"]},
        )
        record_audit_event(call_taker, AuditTag.ACCOUNT_LOGIN_SUCCEEDED)


def test_platform_admin_filters_verifies_and_exports(
    page, browser, world, platform_admin, supervisor, institution_admin, call_taker
):
    record_some_events(world, supervisor, institution_admin, call_taker)
    log_in(page, platform_admin)
    page.goto("/audit/")
    expect(page.get_by_role("heading", level=1)).to_contain_text("Bitácora")
    expect(page.locator("main")).to_contain_text("operadora")
    # The same login in a desktop-sized window (a TOTP code is accepted only once).
    wide = browser.new_page(viewport={"width": 1280, "height": 900}, like=page)
    wide.goto("/audit/")
    wide.get_by_label("Responsable").fill("supervisora")
    wide.get_by_role("button", name="Filtrar").click()
    expect(wide.locator("main table")).not_to_contain_text("operadora")
    wide.goto("/audit/?verify=1")
    expect(wide.get_by_test_id("head-hash")).to_be_visible()
    browser.screenshot(wide, "-desktop")
    before = AuditEvent.objects.filter(tag=AuditTag.AUDIT_LOG_EXPORTED).count()
    with wide.expect_download() as download:
        wide.get_by_role("link", name="CSV").click()
    assert download.value.suggested_filename.endswith(".csv")
    assert AuditEvent.objects.filter(tag=AuditTag.AUDIT_LOG_EXPORTED).count() == before + 1


def test_institution_admin_sees_only_the_own_institution(
    page, world, supervisor, institution_admin, call_taker
):
    record_some_events(world, supervisor, institution_admin, call_taker)
    log_in(page, institution_admin)
    page.goto("/audit/")
    table = page.locator("main table")
    expect(table).to_contain_text("supervisora")
    expect(table).not_to_contain_text("operadora")
