"""The only way views, endpoints and consumers obtain a unit.

Who reaches a unit (``docs/permissions.md``):

- platform administrators: every unit;
- call-takers, dispatchers, supervisors and institution administrators of the unit's own
  institution;
- call-takers, dispatchers and supervisors of a command centre or security secretariat of the
  unit's city: the C4/C5 dispatches every institution's units;
- field units: the units they crew (``Unit.crew``), for their status and positions only
  (``access_unit_for_status``).

Territory limits of a membership do not narrow the fleet: a supervisor of one locality sees the
institution's units, which cross localities all day.

Everyone else gets 404, as for a unit that does not exist.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from convive.accounts.roles import Role
from convive.institutions.models import Institution
from convive.units.models import Unit

OWN_INSTITUTION_ROLES = frozenset(
    {Role.CALL_TAKER, Role.DISPATCHER, Role.SUPERVISOR, Role.INSTITUTION_ADMIN}
)
CITYWIDE_ROLES = frozenset({Role.CALL_TAKER, Role.DISPATCHER, Role.SUPERVISOR})
CITYWIDE_KINDS = frozenset({Institution.Kind.COMMAND_CENTRE, Institution.Kind.SECURITY_SECRETARIAT})


def _membership_reaches(membership: Any, unit: Unit) -> bool:
    institution = membership.institution
    if institution is None:
        return False
    role = Role(membership.role)
    if role in OWN_INSTITUTION_ROLES and institution.pk == unit.institution_id:
        return True
    if role not in CITYWIDE_ROLES:
        return False
    if institution.kind not in CITYWIDE_KINDS:
        return False
    return institution.city_id == unit.institution.city_id


def may_see_unit(user: Any, unit: Unit) -> bool:
    if not user.is_authenticated:
        return False
    if user.has_role(Role.PLATFORM_ADMIN):
        return True
    return any(_membership_reaches(m, unit) for m in user.active_memberships)


def access_unit_by_id(user: Any, unit_id: int, *, for_update: bool = False) -> Unit:
    """The unit, if ``user`` may see and act on it (module docstring); 404 otherwise."""
    units = Unit.objects.select_related("institution", "institution__city", "home_territory")
    if for_update:
        units = units.select_for_update(of=("self",))
    unit = units.filter(pk=unit_id).first()
    if unit is None:
        raise Http404(_("Unit not found."))
    if not may_see_unit(user, unit):
        raise Http404(_("Unit not found."))
    return unit


def visible_units(user: Any) -> QuerySet[Unit]:
    """Every unit ``user`` reaches (the module docstring), as a query: ``may_see_unit`` for many."""
    units = Unit.objects.select_related("institution", "home_territory")
    if user.has_role(Role.PLATFORM_ADMIN):
        return units
    condition = Q(pk__in=[])
    for membership in user.active_memberships:
        institution, role = membership.institution, Role(membership.role)
        if institution is None:
            continue
        if role in OWN_INSTITUTION_ROLES:
            condition |= Q(institution_id=institution.pk)
        if role in CITYWIDE_ROLES and institution.kind in CITYWIDE_KINDS:
            condition |= Q(institution__city_id=institution.city_id)
    return units.filter(condition)


def access_unit_for_status(user: Any, unit_id: int, *, for_update: bool = False) -> Unit:
    """A unit whose status or position ``user`` may post: one it reaches, or one it crews."""
    try:
        return access_unit_by_id(user, unit_id, for_update=for_update)
    except Http404:
        if not user.has_role(Role.FIELD_UNIT):
            raise
    units = user.crewed_units.select_related("institution", "institution__city")
    if for_update:
        units = units.select_for_update(of=("self",))
    unit = units.filter(pk=unit_id).first()
    if unit is None:
        raise Http404(_("Unit not found."))
    return unit
