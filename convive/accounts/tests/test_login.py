"""Logging in: passwords (Argon2, throttled), the second factor for staff, sign-up, profile."""

import pytest
from django.conf import settings
from django_otp.oath import TOTP
from django_otp.plugins.otp_totp.models import TOTPDevice

from conftest import confirmed_device, login
from convive.accounts.models import User
from convive.accounts.tests.factories import DEFAULT_PASSWORD
from convive.core.models import AuditEvent
from convive.core.tags import AuditTag


def current_code(device: TOTPDevice) -> str:
    totp = TOTP(device.bin_key, device.step, device.t0, device.digits, device.drift)
    return f"{totp.token():0{device.digits}d}"


def post_login(client, username, password=DEFAULT_PASSWORD, **extra):
    return client.post("/accounts/login/", {"username": username, "password": password, **extra})


def tags() -> list[str]:
    """The account events recorded so far, oldest first."""
    events = AuditEvent.objects.filter(tag__startswith="account:").order_by("seq")
    return list(events.values_list("tag", flat=True))


@pytest.mark.argon2
def test_citizen_logs_in_with_password_and_leaves_no_audit_trace(client, citizen):
    response = post_login(client, "ciudadana")
    assert response.status_code == 302
    assert response["Location"] == "/accounts/me/"
    assert tags() == []
    assert User.objects.get(pk=citizen.pk).password.startswith("argon2")


def test_staff_without_device_enrols_then_lands_on_the_console(client, supervisor):
    response = post_login(client, "supervisora")
    assert response["Location"].startswith("/accounts/2fa/setup/")
    page = client.get("/accounts/2fa/setup/")
    assert page.status_code == 200
    assert b"<svg" in page.content  # the QR code, drawn without script
    device = TOTPDevice.objects.get(user=supervisor, confirmed=False)
    assert client.get("/accounts/2fa/setup/").context["secret"] == page.context["secret"]

    wrong = client.post("/accounts/2fa/setup/", {"token": "000000"})
    assert wrong.status_code == 200
    assert wrong.context["form"].errors["token"]

    device.refresh_from_db()
    device.throttle_reset()  # a wrong code makes the next try wait a second
    done = client.post("/accounts/2fa/setup/", {"token": current_code(device)})
    assert done["Location"] == "/console/"
    device.refresh_from_db()
    assert device.confirmed
    assert client.get("/accounts/workspace/").status_code == 200
    assert tags() == [AuditTag.ACCOUNT_LOGIN_SUCCEEDED, AuditTag.ACCOUNT_OTP_ENROLLED]


def test_staff_must_pass_the_second_factor_before_anything_else(client, dispatcher):
    device = confirmed_device(dispatcher)
    response = post_login(client, "despachador")
    assert response["Location"].startswith("/accounts/2fa/")
    blocked = client.get("/accounts/workspace/")
    assert blocked.status_code == 302
    assert blocked["Location"].startswith("/accounts/2fa/?next=")
    api = client.get("/api/v1/me")
    assert api.status_code == 403
    assert api.json()["ok"] is False

    wrong = client.post("/accounts/2fa/", {"token": "123456"})
    assert wrong.status_code == 200
    assert AuditEvent.objects.filter(tag=AuditTag.ACCOUNT_OTP_FAILED).count() == 1

    device.refresh_from_db()
    device.throttle_reset()
    ok = client.post("/accounts/2fa/", {"token": current_code(device), "next": "/accounts/me/"})
    assert ok["Location"] == "/accounts/me/"
    assert client.get("/api/v1/me").json()["roles"] == ["dispatcher"]
    assert client.session.get_expiry_age() == settings.STAFF_SESSION_SECONDS


def test_repeated_wrong_codes_are_throttled(client, dispatcher):
    confirmed_device(dispatcher)
    post_login(client, "despachador")
    for _ in range(3):
        client.post("/accounts/2fa/", {"token": "000000"})
    response = client.post("/accounts/2fa/", {"token": "000000"})
    assert "Wait a moment" in str(response.context["form"].errors["token"]) or "Espere" in str(
        response.context["form"].errors["token"]
    )


def test_login_is_locked_after_repeated_failures(client, supervisor):
    for _ in range(settings.AXES_FAILURE_LIMIT):
        response = post_login(client, "supervisora", password="wrong-password")
        assert response.status_code in (200, 429)
    locked = post_login(client, "supervisora")  # even the right password is refused now
    assert locked.status_code == 429
    assert b"Too many attempts" in locked.content or b"Demasiados intentos" in locked.content
    recorded = tags()
    assert AuditTag.ACCOUNT_LOGIN_FAILED in recorded
    assert AuditTag.ACCOUNT_LOGIN_LOCKED_OUT in recorded
    assert AuditTag.ACCOUNT_LOGIN_SUCCEEDED not in recorded


def test_failed_logins_of_citizens_and_unknown_names_are_not_audited(client, citizen):
    post_login(client, "ciudadana", password="nope-nope-nope")
    post_login(client, "nobody-by-this-name", password="nope-nope-nope")
    assert tags() == []


def test_login_never_redirects_to_another_site(client, citizen):
    response = post_login(client, "ciudadana", next="https://evil.example/steal")
    assert response["Location"] == "/accounts/me/"


def test_logout_is_a_post_and_is_recorded_for_staff(client, analyst):
    login(client, analyst)
    assert client.get("/accounts/logout/").status_code == 405
    response = client.post("/accounts/logout/")
    assert response["Location"] == "/"
    assert tags() == [AuditTag.ACCOUNT_SESSION_ENDED]
    assert client.get("/accounts/me/").status_code == 302


@pytest.mark.django_db
def test_signup_creates_a_citizen_and_logs_in(client):
    data = {
        "username": "vecina",
        "email": "",
        "password1": "una clave bastante larga",
        "password2": "una clave bastante larga",
    }
    response = client.post("/accounts/signup/", data)
    assert response["Location"] == "/accounts/me/"
    user = User.objects.get(username="vecina")
    assert user.roles() == {"citizen"}
    assert client.get("/accounts/me/").status_code == 200


@pytest.mark.parametrize(
    ("data", "field"),
    [
        ({"username": "ciudadana"}, "username"),
        ({"password1": "short", "password2": "short"}, "password1"),
        ({"password1": "12345678901234", "password2": "12345678901234"}, "password1"),
        ({"password2": "something else entirely"}, "password2"),
        ({"username": "bad name!"}, "username"),
    ],
)
def test_signup_errors_name_the_field_and_create_nothing(client, citizen, data, field):
    base = {
        "username": "nuevo",
        "email": "",
        "password1": "una clave bastante larga",
        "password2": "una clave bastante larga",
    }
    response = client.post("/accounts/signup/", {**base, **data})
    assert response.status_code == 200
    assert field in response.context["form"].errors
    assert User.objects.count() == 1


def test_profile_update_keeps_the_language(client, citizen):
    login(client, citizen)
    data = {
        "first_name": "Ana",
        "last_name": "Ruiz",
        "email": "ana@example.org",
        "phone": "",
        "preferred_language": "en",
    }
    response = client.post("/accounts/me/", data)
    assert response.status_code == 302
    assert response.cookies[settings.LANGUAGE_COOKIE_NAME].value == "en"
    citizen.refresh_from_db()
    assert (citizen.first_name, citizen.preferred_language) == ("Ana", "en")
    bad = client.post("/accounts/me/", {**data, "email": "not-an-email"})
    assert bad.status_code == 200
    assert "email" in bad.context["form"].errors


def test_every_page_carries_a_strict_content_security_policy(client, db):
    response = client.get("/")
    policy = response["Content-Security-Policy"]
    assert "script-src 'self'" in policy
    assert "unsafe-inline" not in policy
    assert "frame-ancestors 'none'" in policy
    assert response["X-Frame-Options"] == "DENY"
