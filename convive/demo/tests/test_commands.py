"""``demo_totp`` and ``demo_logins``."""

import re

import pytest
from django.core.management.base import CommandError
from django.urls import reverse
from django_otp.plugins.otp_totp.models import TOTPDevice

from convive.accounts.models import User
from convive.accounts.roles import Role
from convive.accounts.tests.factories import UserFactory
from convive.demo.generate import DEFAULT_SEED
from convive.demo.people import DEMO_PASSWORD, PEOPLE
from convive.demo.tests.conftest import run
from convive.demo.totp import base32_secret, demo_totp_key


def test_demo_totp_prints_a_code_the_device_accepts(demo):
    code = run("demo_totp", "operadora").strip()
    assert re.fullmatch(r"\d{6}", code)
    device = TOTPDevice.objects.get(user__username="operadora")
    assert device.verify_token(code)


def test_demo_keys_come_from_the_seed_and_the_username(demo):
    device = TOTPDevice.objects.get(user__username="supervisora")
    assert device.key == demo_totp_key(DEFAULT_SEED, "supervisora")
    assert device.key != demo_totp_key(DEFAULT_SEED, "operadora")
    assert device.key != demo_totp_key(DEFAULT_SEED + 1, "supervisora")


def test_demo_totp_refuses_an_account_that_is_not_a_demo_account(db):
    real = UserFactory(username="jefa_real")
    TOTPDevice.objects.create(user=real, name="phone", confirmed=True)
    with pytest.raises(CommandError, match="not a demo account") as raised:
        run("demo_totp", "jefa_real")
    assert not re.search(r"\d{6}", str(raised.value))


def test_demo_totp_refuses_unknown_accounts_and_citizens(demo):
    with pytest.raises(CommandError, match="no account named"):
        run("demo_totp", "nadie")
    with pytest.raises(CommandError, match="no second factor"):
        run("demo_totp", "ciudadana")


def test_demo_logins_lists_every_role_account_and_secret(demo, monkeypatch):
    monkeypatch.setenv("PORT", "8123")
    output = run("demo_logins")
    for role in Role:
        assert str(role.label) in output
    for person in PEOPLE:
        assert re.search(rf"^{person.username}\s", output, re.M), person.username
    assert DEMO_PASSWORD in output
    for device in TOTPDevice.objects.filter(user__is_demo=True):
        assert base32_secret(device) in output
    assert "convive demo_totp <username>" in output
    assert "http://127.0.0.1:8123" in output


def test_demo_logins_shows_where_the_supervisor_works(demo):
    output = run("demo_logins")
    line = next(line for line in output.splitlines() if line.startswith("supervisora "))
    supervisor = User.objects.get(username="supervisora")
    locality = supervisor.memberships.get().territories.get()
    assert locality.name in line
    assert "Supervisor" in line


def test_demo_logins_without_a_demo(db):
    assert "no demo accounts" in run("demo_logins")


def test_a_demo_supervisor_logs_in_with_the_password_and_the_printed_code(demo, client):
    response = client.post(
        reverse("accounts:login"), {"username": "supervisora", "password": DEMO_PASSWORD}
    )
    assert response["Location"].startswith(reverse("accounts:otp_verify"))
    code = run("demo_totp", "supervisora").strip()
    response = client.post(reverse("accounts:otp_verify"), {"token": code})
    assert response.status_code == 302
    assert client.get(reverse("accounts:workspace")).status_code == 200
