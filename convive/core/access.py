"""Who may read which part of the audit log.

Platform administrators read all of it; institution administrators read the entries recorded on
behalf of the institutions they administer (``SCOPE_NOTES`` in ``convive/accounts/permissions.py``).
Entries with no institution (platform administrators' own actions, failed logins by unknown
people) are for platform administrators only.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from django.db.models import QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from convive.accounts.permissions import Action, is_allowed
from convive.accounts.roles import Role
from convive.core.models import AuditEvent

# Roles that read the entries of their own institutions only (the rest of the roles that
# ROLE_ACTIONS allows read everything); tests hold this and SCOPE_NOTES together.
OWN_INSTITUTION_ROLES = frozenset({Role.INSTITUTION_ADMIN})


@dataclass(frozen=True)
class AuditScope:
    """The part of the log a person may read: everything, or some institutions' entries."""

    everything: bool = False
    institution_ids: frozenset[int] = field(default_factory=frozenset)

    @property
    def is_empty(self) -> bool:
        return not self.everything and not self.institution_ids


def audit_scope_for(user: Any, action: Action = Action.AUDIT_VIEW) -> AuditScope:
    """What ``user`` may read of the log for ``action`` (AUDIT_VIEW or AUDIT_EXPORT)."""
    if not is_allowed(user, action):
        return AuditScope()
    if user.has_role(Role.PLATFORM_ADMIN):
        return AuditScope(everything=True)
    own = frozenset(
        m.institution_id
        for m in user.active_memberships
        if Role(m.role) in OWN_INSTITUTION_ROLES and m.institution_id is not None
    )
    return AuditScope(institution_ids=own)


def access_audit_events(user: Any, *, action: Action = Action.AUDIT_VIEW) -> QuerySet[AuditEvent]:
    """The only way views and endpoints obtain audit entries: those ``user`` may read."""
    scope = audit_scope_for(user, action)
    if scope.everything:
        return AuditEvent.objects.all()
    if scope.is_empty:
        return AuditEvent.objects.none()
    return AuditEvent.objects.filter(institution_id__in=scope.institution_ids)


def access_audit_event_by_id(user: Any, event_id: int) -> AuditEvent:
    """One entry, if ``user`` may read it; 404 otherwise (as if it did not exist)."""
    event = AuditEvent.objects.filter(pk=event_id).first()
    if event is None:
        raise Http404(_("Audit entry not found."))
    if not access_audit_events(user).filter(pk=event.pk).exists():
        raise Http404(_("Audit entry not found."))
    return event


def can_verify_audit_chain(user: Any) -> bool:
    """Verifying reads every entry, so only those who may read every entry may run it."""
    return audit_scope_for(user).everything
