"""Reads about the demo: is it loaded, and which accounts can log in to it."""

from __future__ import annotations

from dataclasses import dataclass
from enum import StrEnum

from django.utils.translation import gettext as _
from django_otp.plugins.otp_totp.models import TOTPDevice

from convive.accounts.models import User
from convive.accounts.roles import Role
from convive.demo.totp import base32_secret
from convive.institutions.models import Membership
from convive.territories.models import City


class DatabaseState(StrEnum):
    EMPTY = "empty"  # no city at all: the demo may load
    DEMO_LOADED = "demo_loaded"
    NOT_EMPTY = "not_empty"  # real cities: the demo must not add its published-password accounts


def database_state() -> DatabaseState:
    if City.objects.filter(is_demo=True).exists():
        return DatabaseState.DEMO_LOADED
    if City.objects.exists():
        return DatabaseState.NOT_EMPTY
    return DatabaseState.EMPTY


@dataclass(frozen=True)
class DemoLogin:
    username: str
    full_name: str
    role: Role
    where: str  # institution, and the territories the membership is limited to
    totp_secret: str | None  # base32; None for citizens


def _where(membership: Membership) -> str:
    if membership.institution is None:
        return _("whole platform")
    limited = ", ".join(t.name for t in membership.territories.all())
    return f"{membership.institution.name} · {limited}" if limited else membership.institution.name


def _logins_of(user: User, secrets: dict[int, str]) -> list[DemoLogin]:
    secret = secrets.get(user.pk)
    memberships = [m for m in user.memberships.all() if m.active]
    if not memberships:
        return [DemoLogin(user.username, user.get_full_name(), Role.CITIZEN, "", secret)]
    return [
        DemoLogin(user.username, user.get_full_name(), Role(m.role), _where(m), secret)
        for m in memberships
    ]


def list_demo_logins() -> list[DemoLogin]:
    """Every demo account, one row per role it holds, in the order of ``Role``."""
    users = (
        User.objects.filter(is_demo=True, is_active=True)
        .prefetch_related("memberships__institution", "memberships__territories")
        .order_by("pk")
    )
    devices = TOTPDevice.objects.filter(user__is_demo=True, confirmed=True).order_by("pk")
    secrets: dict[int, str] = {}
    for device in devices:
        secrets.setdefault(device.user_id, base32_secret(device))
    rows = [row for user in users for row in _logins_of(user, secrets)]
    order = list(Role)
    return sorted(rows, key=lambda row: order.index(row.role))
