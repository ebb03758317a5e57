"""The only way views and endpoints obtain an institution's team."""

from __future__ import annotations

from typing import Any

from django.http import Http404
from django.utils.translation import gettext as _

from convive.accounts.permissions import Action, is_allowed
from convive.accounts.roles import Role
from convive.institutions.models import Institution, Membership

# Roles that see (or manage) only the team of the institution they belong to.
_OWN_INSTITUTION_ROLES = {
    Action.MEMBER_VIEW: {Role.SUPERVISOR, Role.INSTITUTION_ADMIN},
    Action.MEMBER_MANAGE: {Role.INSTITUTION_ADMIN},
}


def institutions_for(user: Any, action: Action) -> list[Institution]:
    """Institutions whose team ``user`` may see (MEMBER_VIEW) or manage (MEMBER_MANAGE)."""
    if not is_allowed(user, action):
        return []
    if user.has_role(Role.PLATFORM_ADMIN):
        return list(Institution.objects.select_related("city").order_by("city__name", "name"))
    roles = _OWN_INSTITUTION_ROLES[action]
    own = {m.institution_id for m in user.active_memberships if Role(m.role) in roles}
    return list(Institution.objects.filter(pk__in=own).select_related("city").order_by("name"))


def access_institution_by_id(
    user: Any, institution_id: int, *, action: Action = Action.MEMBER_VIEW
) -> Institution:
    institution = Institution.objects.select_related("city").filter(pk=institution_id).first()
    if institution is None:
        raise Http404(_("Institution not found."))
    if not is_allowed(user, action):
        raise Http404(_("Institution not found."))
    if institution not in institutions_for(user, action):
        raise Http404(_("Institution not found."))
    return institution


def access_membership_by_id(
    user: Any, institution: Institution, membership_id: int, *, for_update: bool = False
) -> Membership:
    """A membership of ``institution``, which the caller already obtained for MEMBER_MANAGE."""
    qs = Membership.objects.select_related("user").order_by()
    if for_update:  # lock the membership row only (the ordering joins a nullable institution)
        qs = qs.select_for_update(of=("self",))
    membership = qs.filter(pk=membership_id, active=True).first()
    if membership is None:
        raise Http404(_("Membership not found."))
    if membership.institution_id != institution.pk:
        raise Http404(_("Membership not found."))
    return membership
