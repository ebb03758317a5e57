"""Steps shared by browser tests: logging in through the real forms, second factor included."""

from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import confirmed_device
from convive.accounts.permissions import needs_two_factor
from convive.accounts.tests.factories import DEFAULT_PASSWORD


def totp_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def log_in(page, user, password: str = DEFAULT_PASSWORD) -> None:
    """Fill the login form (and the two-factor form for staff) as a person would."""
    device = confirmed_device(user) if needs_two_factor(user) else None
    page.goto("/accounts/login/")
    page.get_by_label("Nombre de usuario").fill(user.username)
    page.get_by_label("Contraseña").fill(password)
    page.get_by_role("button", name="Iniciar sesión").click()
    if device is not None:
        page.wait_for_url("**/accounts/2fa/**")
        page.get_by_label("Código de seis dígitos").fill(totp_code(device))
        page.get_by_role("button", name="Verificar").click()
    page.wait_for_load_state("networkidle")
