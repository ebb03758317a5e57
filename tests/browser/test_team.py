"""An institution administrator builds a team: gives, changes and ends a role over territories."""

import re

from playwright.sync_api import expect

from convive.accounts.tests.factories import UserFactory
from convive.institutions.models import Membership
from tests.browser.helpers import log_in


def test_institution_admin_manages_the_team(page, browser, world, institution_admin, supervisor):
    UserFactory(username="agente_nueva", email="agente@example.org")
    log_in(page, institution_admin)
    expect(page.get_by_role("heading", level=1)).to_contain_text("Policía Metropolitana")
    page.get_by_label("Nombre de usuario o correo").fill("agente@example.org")
    page.get_by_label("Rol").select_option("dispatcher")
    page.get_by_label("Suba").check()
    page.get_by_role("button", name=re.compile("Agregar")).click()
    expect(page.get_by_test_id("team")).to_contain_text("agente_nueva")
    browser.screenshot(page, "-added")
    membership = Membership.objects.get(user__username="agente_nueva")
    assert list(membership.territories.values_list("name", flat=True)) == ["Suba"]

    page.get_by_role("link", name=re.compile("agente_nueva")).click()
    page.get_by_label("Kennedy").check()
    page.get_by_label("Motivo").fill("Refuerzo de fin de año")
    page.get_by_role("button", name=re.compile("Guardar")).click()
    expect(page.get_by_test_id("team")).to_contain_text("Kennedy")

    page.get_by_role("link", name=re.compile("agente_nueva")).click()
    page.get_by_label(re.compile("Por qué")).fill("Traslado")
    page.get_by_role("button", name=re.compile("Finalizar")).click()
    expect(page.get_by_test_id("team")).not_to_contain_text("agente_nueva")
    membership.refresh_from_db()
    assert not membership.active


def test_supervisor_sees_the_team_without_changing_it(page, world, supervisor):
    log_in(page, supervisor)
    page.goto("/institutions/team/")
    expect(page.get_by_test_id("team")).to_contain_text("supervisora")
    expect(page.get_by_role("button", name=re.compile("Agregar"))).to_have_count(0)
