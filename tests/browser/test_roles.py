"""Each role logs in through the real forms, in headless Chromium, and lands on its own page."""

import re

import pytest
from playwright.sync_api import expect

from conftest import PERSONAS
from convive.accounts.roles import Role
from tests.browser.helpers import log_in

LANDINGS = {
    Role.CITIZEN: ("/accounts/me/", "Mi cuenta"),
    Role.CALL_TAKER: ("/console/", "Consola"),
    Role.DISPATCHER: ("/console/", "Consola"),
    Role.SUPERVISOR: ("/console/", "Consola"),
    Role.FIELD_UNIT: ("/units/field/", "Mi unidad"),
    Role.ANALYST: ("/kpis/", "Tiempos de respuesta"),
    Role.INSTITUTION_ADMIN: (re.compile(r"/institutions/\d+/team/$"), "Equipo de"),
    Role.CAMERA_PARTNER: ("/accounts/workspace/", "Espacio de trabajo"),
    Role.PLATFORM_ADMIN: ("/accounts/workspace/", "Espacio de trabajo"),
}


@pytest.mark.parametrize("role", list(Role), ids=str)
def test_each_role_logs_in_and_lands_on_its_page(role, page, request):
    user = request.getfixturevalue(PERSONAS[role])
    log_in(page, user)
    url, heading = LANDINGS[role]
    if isinstance(url, str):
        expect(page).to_have_url(re.compile(re.escape(url) + "$"))
    else:
        expect(page).to_have_url(url)
    expect(page.get_by_role("heading", level=1)).to_contain_text(heading)


def test_supervisor_sees_only_kennedy_in_the_workspace(page, supervisor):
    log_in(page, supervisor)
    page.goto("/accounts/workspace/")
    scope = page.locator("main")
    expect(scope).to_contain_text("Kennedy")
    expect(scope).not_to_contain_text("Suba")
