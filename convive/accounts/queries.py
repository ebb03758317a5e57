"""Reads about people: where each role starts, and what the header shows."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

from django.urls import reverse
from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from convive.accounts.permissions import Action, is_allowed
from convive.accounts.roles import Role

# Where each role lands after logging in (URL names). Later areas (analytics, cameras) replace
# these as they are built.
ROLE_HOME: dict[Role, str] = {
    Role.CITIZEN: "accounts:me",
    Role.CALL_TAKER: "console:index",
    Role.DISPATCHER: "console:index",
    Role.SUPERVISOR: "console:index",
    Role.FIELD_UNIT: "units:field",
    Role.ANALYST: "analytics:kpis",
    Role.CAMERA_PARTNER: "accounts:workspace",
    Role.INSTITUTION_ADMIN: "institutions:members_home",
    Role.PLATFORM_ADMIN: "accounts:workspace",
}
# When a person holds several roles, the first of these decides the landing page.
ROLE_PRECEDENCE = [
    Role.PLATFORM_ADMIN,
    Role.INSTITUTION_ADMIN,
    Role.SUPERVISOR,
    Role.DISPATCHER,
    Role.CALL_TAKER,
    Role.FIELD_UNIT,
    Role.ANALYST,
    Role.CAMERA_PARTNER,
    Role.CITIZEN,
]


def home_url_for(user: Any) -> str:
    roles = user.roles()
    for role in ROLE_PRECEDENCE:
        if role in roles:
            return reverse(ROLE_HOME[role])
    return reverse("core:home")


@dataclass(frozen=True)
class NavLink:
    url: str
    label: str | Promise
    current: bool = False


_NAV: list[tuple[str, Action, Promise]] = [
    ("reports:new", Action.PUBLIC, _("Report a problem")),
    ("accounts:me", Action.ACCOUNT_VIEW, _("My account")),
    ("accounts:workspace", Action.WORKSPACE_VIEW, _("Workspace")),
    ("console:index", Action.INCIDENT_VIEW, _("Console")),
    ("units:field", Action.FIELD_UNIT_PAGE, _("My unit")),
    ("inbox:list", Action.REPORT_INBOX, _("Inbox")),
    ("analytics:kpis", Action.KPI_VIEW, _("Response times")),
    ("territories:index", Action.PUBLIC, _("Territories")),
    ("institutions:members_home", Action.MEMBER_VIEW, _("Team")),
    ("audit:log", Action.AUDIT_VIEW, _("Audit log")),
    ("admin:index", Action.ADMIN_SITE, _("Administration")),
]


def nav_links(user: Any, current_path: str = "") -> list[NavLink]:
    links = []
    for url_name, action, label in _NAV:
        if is_allowed(user, action):
            url = reverse(url_name)
            links.append(NavLink(url, label, current_path.startswith(url) and url != "/"))
    return links


@dataclass(frozen=True)
class Area:
    title: Promise
    text: Promise
    url: str
    cta: Promise


def role_areas(user: Any) -> list[Area]:
    """The cards on the home page: one per audience, each leading to its area."""
    return [
        Area(
            _("Citizens"),
            _(
                "Report security and coexistence problems, anonymously if you wish, follow them "
                "and talk with the institution that handles them."
            ),
            reverse("reports:new"),
            _("Report a problem"),
        ),
        Area(
            _("Command centre"),
            _(
                "Call-takers, dispatchers, supervisors and field units: one queue of incidents, "
                "dispatch of the nearest suitable unit, response times."
            ),
            reverse("console:index"),
            _("Open the console"),
        ),
        Area(
            _("Institutions and partners"),
            _(
                "Institution administrators manage their team and the territories each person "
                "covers; camera partners join the network under an agreement."
            ),
            reverse("institutions:members_home"),
            _("Manage my team"),
        ),
        Area(
            _("Analysts and the public"),
            _(
                "Territories with their population, the base for rates per 100,000, trends and "
                "open data that protects victims."
            ),
            reverse("territories:index"),
            _("Explore territories"),
        ),
    ]
