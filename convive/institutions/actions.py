"""Writes about institutions: who is on a team, with which role, over which territories."""

from __future__ import annotations

from django.db.models import Q
from django.utils import timezone
from django.utils.translation import gettext as _

from convive.accounts.models import User
from convive.accounts.roles import Role
from convive.core.audit import record_audit_event
from convive.core.errors import ActionError
from convive.core.tags import AuditTag
from convive.institutions.models import Institution, Membership
from convive.institutions.queries import assignable_roles, assignable_territories
from convive.territories.models import Territory


def find_account(identifier: str) -> User:
    identifier = identifier.strip()
    user = (
        User.objects.filter(Q(username__iexact=identifier) | Q(email__iexact=identifier))
        .filter(is_active=True)
        .order_by("pk")
        .first()
    )
    if user is None or not identifier:
        raise ActionError(
            _("No active account has that username or e-mail. Ask the person to create one first."),
            field="account",
        )
    return user


def _check_role_and_territories(
    institution: Institution, role: str, territories: list[Territory]
) -> None:
    if role not in assignable_roles(institution):
        raise ActionError(_("This role cannot be given in this institution."), field="role")
    allowed = {t.pk for t in assignable_territories(institution)}
    if any(t.pk not in allowed for t in territories):
        raise ActionError(
            _("A chosen territory is not covered by this institution."), field="territories"
        )


def check_add_member(
    actor: User,
    institution: Institution,
    *,
    account: str,
    role: str,
    territories: list[Territory],
) -> Membership:
    """Caller obtained ``institution`` for MEMBER_MANAGE (access_institution_by_id)."""
    user = find_account(account)
    _check_role_and_territories(institution, role, territories)
    existing = Membership.objects.filter(user=user, institution=institution, role=role, active=True)
    if existing.exists():
        raise ActionError(_("This person already has this role here."), status=409, field="role")
    return do_add_member(actor, institution, user=user, role=Role(role), territories=territories)


def do_add_member(
    actor: User | None,
    institution: Institution,
    *,
    user: User,
    role: Role,
    territories: list[Territory],
) -> Membership:
    membership = Membership.objects.create(
        user=user, institution=institution, role=role, created_by=actor
    )
    membership.territories.set(territories)
    record_audit_event(
        actor,
        AuditTag.INSTITUTION_MEMBER_ADDED,
        subject=membership,
        institution=institution,
        data={
            "user": user.username,
            "role": str(role),
            "territories": sorted(t.code for t in territories),
        },
    )
    return membership


def check_change_member(
    actor: User, membership: Membership, *, territories: list[Territory], reason: str
) -> Membership:
    """Change which territories a membership covers. Caller holds the membership row lock."""
    institution = membership.institution
    _check_role_and_territories(institution, membership.role, territories)
    before = sorted(t.code for t in membership.territories.all())
    after = sorted(t.code for t in territories)
    if before == after:
        raise ActionError(_("Nothing changed."), field="territories")
    membership.territories.set(territories)
    record_audit_event(
        actor,
        AuditTag.INSTITUTION_MEMBER_CHANGED,
        subject=membership,
        institution=institution,
        reason=reason,
        data={"user": membership.user.username, "territories": {"from": before, "to": after}},
    )
    return membership


def check_end_membership(actor: User, membership: Membership, *, reason: str) -> Membership:
    """End a membership (kept for the record, never deleted). A reason is required."""
    if not reason.strip():
        raise ActionError(_("Say why this person leaves the role."), field="reason")
    if membership.user_id == actor.pk and membership.role == Role.INSTITUTION_ADMIN:
        raise ActionError(
            _("You cannot remove your own administrator role; ask another administrator."),
            status=409,
        )
    membership.active = False
    membership.ended_at = timezone.now()
    membership.save(update_fields=["active", "ended_at"])
    record_audit_event(
        actor,
        AuditTag.INSTITUTION_MEMBER_REMOVED,
        subject=membership,
        institution=membership.institution,
        reason=reason,
        data={"user": membership.user.username, "role": membership.role},
    )
    return membership
