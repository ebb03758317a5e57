"""Signing up, editing one's details, enrolling the second factor, and the lockout page."""

import base64
import re

from django.conf import settings
from django_otp.oath import TOTP
from playwright.sync_api import expect

from convive.accounts.models import User
from tests.browser.helpers import log_in


def test_a_citizen_signs_up_and_edits_the_profile(page):
    page.goto("/accounts/signup/")
    page.get_by_label("Nombre de usuario").fill("vecina_del_barrio")
    page.get_by_label("Contraseña", exact=True).fill("una clave bastante larga")
    page.get_by_label("Repita la contraseña").fill("una clave bastante larga")
    page.get_by_role("button", name="Crear cuenta").click()
    expect(page).to_have_url(re.compile("/accounts/me/$"))
    page.get_by_label("Nombre", exact=True).fill("Marta")
    page.get_by_role("button", name="Guardar").click()
    expect(page.locator(".messages")).to_be_visible()
    assert User.objects.get(username="vecina_del_barrio").first_name == "Marta"


def test_a_weak_password_is_refused_with_a_message(page, browser):
    page.goto("/accounts/signup/")
    page.get_by_label("Nombre de usuario").fill("vecino")
    page.get_by_label("Contraseña", exact=True).fill("123")
    page.get_by_label("Repita la contraseña").fill("123")
    page.get_by_role("button", name="Crear cuenta").click()
    expect(page.locator(".errorlist").first).to_be_visible()
    assert not User.objects.filter(username="vecino").exists()


def test_new_staff_enrol_their_authenticator_on_first_login(page, browser, supervisor):
    page.goto("/accounts/login/")
    page.get_by_label("Nombre de usuario").fill(supervisor.username)
    page.get_by_label("Contraseña").fill("correct-horse-battery-staple")
    page.get_by_role("button", name="Iniciar sesión").click()
    expect(page).to_have_url(re.compile("/accounts/2fa/setup/"))
    expect(page.locator(".qr svg")).to_be_visible()
    browser.screenshot(page, "-qr")
    secret = page.get_by_test_id("totp-secret").inner_text().strip()
    code = f"{TOTP(base64.b32decode(secret)).token():06d}"
    page.get_by_label("Código de seis dígitos").fill(code)
    page.get_by_role("button", name="Confirmar").click()
    expect(page).to_have_url(re.compile("/console/$"))  # command-centre staff land on it


def test_repeated_wrong_passwords_lock_the_login(page, browser, dispatcher):
    browser.expect_console_error("429")
    for _ in range(settings.AXES_FAILURE_LIMIT + 1):
        page.goto("/accounts/login/")
        page.get_by_label("Nombre de usuario").fill(dispatcher.username)
        page.get_by_label("Contraseña").fill("not-the-password")
        page.get_by_role("button", name="Iniciar sesión").click()
    expect(page.get_by_role("heading", level=1)).to_have_text("Demasiados intentos")


def test_staff_log_out(page, analyst):
    log_in(page, analyst)
    page.get_by_role("button", name="Cerrar sesión").click()
    expect(page.get_by_role("link", name="Iniciar sesión").first).to_be_visible()
