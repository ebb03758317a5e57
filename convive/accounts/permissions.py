"""What each role may do: the table that ``docs/permissions.md`` shows.

Every view declares the one action it needs with ``@requires(Action.X)`` and every API
operation ``**api_permission(Action.X)``; ``tests/test_permissions.py`` walks every role
over every URL and endpoint and fails if this table, the code and the document disagree.

Roles say *what* someone may do; memberships say *where* (``convive.institutions.queries.Scope``).
"""

from __future__ import annotations

from collections.abc import Callable
from enum import StrEnum
from functools import wraps
from typing import TYPE_CHECKING, Any

from django.contrib.auth.views import redirect_to_login
from django.core.exceptions import PermissionDenied
from django.http import HttpRequest

from convive.accounts.roles import STAFF_ROLES, Role

if TYPE_CHECKING:
    from convive.accounts.models import User


class Action(StrEnum):
    PUBLIC = "public"  # anyone, without an account
    ACCOUNT_VIEW = "account.view"  # one's own account page
    WORKSPACE_VIEW = "workspace.view"  # the staff workspace: memberships, scope, tools
    SCOPE_VIEW = "scope.view"  # which territories one covers (API)
    MEMBER_VIEW = "institution.member.view"
    MEMBER_MANAGE = "institution.member.manage"
    AUDIT_VIEW = "audit.view"
    AUDIT_EXPORT = "audit.export"
    ADMIN_SITE = "admin.site"  # Django admin: catalogues, territories, institutions
    REPORT_INBOX = "report.inbox"  # see the reports routed to one's institution
    REPORT_HANDLE = "report.handle"  # reply, internal notes, status, assign, reroute
    REPORT_MODERATE = "report.moderate"  # hide a report, restrict an abusive reporter
    INCIDENT_VIEW = "incident.view"  # the command centre's incidents and their timelines
    INCIDENT_CREATE = "incident.create"  # take a call, turn a report or an SOS into an incident
    INCIDENT_HANDLE = "incident.handle"  # priority, notes, field steps, close, victim referral
    INCIDENT_SUPERVISE = "incident.supervise"  # link, merge, hand over, reopen
    UNIT_VIEW = "unit.view"  # the unit board and the recommended units for an incident
    UNIT_DISPATCH = "unit.dispatch"  # send a unit to an incident
    UNIT_STATUS = "unit.status"  # a unit's status: en route, on scene, available, out of service
    UNIT_MANAGE = "unit.manage"  # add units, change their kind, capabilities, home
    FIELD_UNIT_PAGE = "unit.field"  # the crew's page: their assigned incident, status buttons
    KPI_VIEW = "kpi.view"  # response-time figures and their CSV export


ANONYMOUS = "anonymous"

_ALL_ROLES = frozenset(Role)
# Staff who answer citizens' reports for their institution.
_REPORT_STAFF = frozenset(
    {
        Role.CALL_TAKER,
        Role.DISPATCHER,
        Role.SUPERVISOR,
        Role.INSTITUTION_ADMIN,
        Role.PLATFORM_ADMIN,
    }
)
# The command centre: call-takers, dispatchers and supervisors.
_INCIDENT_STAFF = frozenset(
    {Role.CALL_TAKER, Role.DISPATCHER, Role.SUPERVISOR, Role.PLATFORM_ADMIN}
)
ROLE_ACTIONS: dict[Action, frozenset[Role]] = {
    Action.PUBLIC: _ALL_ROLES,
    Action.ACCOUNT_VIEW: _ALL_ROLES,
    Action.WORKSPACE_VIEW: STAFF_ROLES,
    Action.SCOPE_VIEW: STAFF_ROLES,
    Action.MEMBER_VIEW: frozenset({Role.SUPERVISOR, Role.INSTITUTION_ADMIN, Role.PLATFORM_ADMIN}),
    Action.MEMBER_MANAGE: frozenset({Role.INSTITUTION_ADMIN, Role.PLATFORM_ADMIN}),
    Action.AUDIT_VIEW: frozenset({Role.INSTITUTION_ADMIN, Role.PLATFORM_ADMIN}),
    Action.AUDIT_EXPORT: frozenset({Role.INSTITUTION_ADMIN, Role.PLATFORM_ADMIN}),
    Action.ADMIN_SITE: frozenset({Role.PLATFORM_ADMIN}),
    Action.REPORT_INBOX: _REPORT_STAFF,
    Action.REPORT_HANDLE: _REPORT_STAFF,
    Action.REPORT_MODERATE: frozenset(
        {Role.SUPERVISOR, Role.INSTITUTION_ADMIN, Role.PLATFORM_ADMIN}
    ),
    Action.INCIDENT_VIEW: _INCIDENT_STAFF,
    Action.INCIDENT_CREATE: _INCIDENT_STAFF,
    Action.INCIDENT_HANDLE: _INCIDENT_STAFF,
    Action.INCIDENT_SUPERVISE: _INCIDENT_STAFF - {Role.CALL_TAKER},
    Action.UNIT_VIEW: _INCIDENT_STAFF,
    Action.UNIT_DISPATCH: frozenset({Role.DISPATCHER, Role.SUPERVISOR, Role.PLATFORM_ADMIN}),
    Action.UNIT_STATUS: frozenset(
        {Role.DISPATCHER, Role.SUPERVISOR, Role.FIELD_UNIT, Role.PLATFORM_ADMIN}
    ),
    Action.UNIT_MANAGE: frozenset({Role.INSTITUTION_ADMIN, Role.PLATFORM_ADMIN}),
    Action.FIELD_UNIT_PAGE: frozenset({Role.FIELD_UNIT}),
    Action.KPI_VIEW: frozenset(
        {Role.SUPERVISOR, Role.ANALYST, Role.INSTITUTION_ADMIN, Role.PLATFORM_ADMIN}
    ),
}
# Where an allowed role sees only part of the data, and which part (shown in docs/permissions.md).
SCOPE_NOTES: dict[tuple[Action, Role], str] = {
    (Action.MEMBER_VIEW, Role.SUPERVISOR): "own institution",
    (Action.MEMBER_VIEW, Role.INSTITUTION_ADMIN): "own institution",
    (Action.MEMBER_MANAGE, Role.INSTITUTION_ADMIN): "own institution",
    (Action.AUDIT_VIEW, Role.INSTITUTION_ADMIN): "own institution",
    (Action.AUDIT_EXPORT, Role.INSTITUTION_ADMIN): "own institution",
    **{
        (action, role): "own institution and territories"
        for action in (Action.REPORT_INBOX, Action.REPORT_HANDLE, Action.REPORT_MODERATE)
        for role in _REPORT_STAFF - {Role.PLATFORM_ADMIN}
    },
    **{
        (action, role): "own city" if role != Role.SUPERVISOR else "own institution and territories"
        for action in (
            Action.INCIDENT_VIEW,
            Action.INCIDENT_CREATE,
            Action.INCIDENT_HANDLE,
            Action.INCIDENT_SUPERVISE,
        )
        for role in _INCIDENT_STAFF - {Role.PLATFORM_ADMIN}
    },
    (Action.UNIT_VIEW, Role.SUPERVISOR): "own institution's units",
    (Action.UNIT_DISPATCH, Role.SUPERVISOR): "own institution's units",
    (Action.UNIT_STATUS, Role.FIELD_UNIT): "the units they crew",
    (Action.UNIT_MANAGE, Role.INSTITUTION_ADMIN): "own institution",
    (Action.KPI_VIEW, Role.SUPERVISOR): "own institution and territories",
    (Action.KPI_VIEW, Role.ANALYST): "own city",
    (Action.KPI_VIEW, Role.INSTITUTION_ADMIN): "own city",
}


def roles_for(action: Action) -> frozenset[Role]:
    return ROLE_ACTIONS[action]


def is_allowed(user: User | Any, action: Action) -> bool:
    """True when one of the user's roles grants ``action`` (anonymous: public actions only)."""
    if action is Action.PUBLIC:
        return True
    if user is None or not user.is_authenticated:
        return False
    return bool(user.roles() & ROLE_ACTIONS[action])


def requires(action: Action) -> Callable:
    """Decorate a view: anonymous users go to the login page, others without the role get 403."""

    def decorator(view: Callable) -> Callable:
        @wraps(view)
        def wrapper(request: HttpRequest, *args, **kwargs):
            if action is not Action.PUBLIC:
                if not request.user.is_authenticated:
                    return redirect_to_login(request.get_full_path())
                if not is_allowed(request.user, action):
                    raise PermissionDenied
            return view(request, *args, **kwargs)

        wrapper.required_action = action  # type: ignore[attr-defined]
        return wrapper

    return decorator


def needs_two_factor(user: User | Any) -> bool:
    return bool(user.is_authenticated and user.roles() & STAFF_ROLES)


class RoleAuth:
    """Ninja auth for an operation that needs ``action``: 401 when anonymous, 403 without the role.

    Built on the session cookie (with Django's CSRF check on unsafe methods).
    """

    def __new__(cls, action: Action):
        from ninja.security import SessionAuth

        class _RoleAuth(SessionAuth):
            def authenticate(self, request, key):  # noqa: ANN001
                if not request.user.is_authenticated:
                    return None
                if not is_allowed(request.user, action):
                    raise PermissionDenied
                return request.user

        return _RoleAuth()


def api_permission(action: Action) -> dict[str, Any]:
    """Keyword arguments for a Ninja operation: its auth and its documented permission."""
    auth = None if action is Action.PUBLIC else RoleAuth(action)
    return {"auth": auth, "openapi_extra": {"x-permission": str(action)}}
