"""The only ways views, endpoints and consumers obtain an incident.

Command-centre staff reach incidents by role and membership (``docs/permissions.md``):

- call-takers and dispatchers: every incident of their institution's city (the whole queue);
- supervisors: the incidents inside the territories their membership covers (narrowed, or the
  institution's coverage, or the whole city for a city-wide institution), the incidents their
  institution handles when the membership is not narrowed, and incidents placed by an address
  only (no locality), whose place a person must still decide;
- platform administrators: everything.

Everyone else gets a 404, as for reports: whether an incident exists is itself not theirs to know.
"""

from __future__ import annotations

from typing import Any

from django.db.models import Q, QuerySet
from django.http import Http404
from django.utils.translation import gettext as _

from convive.accounts.permissions import Action, roles_for
from convive.accounts.roles import Role
from convive.incidents.models import Incident
from convive.institutions.queries import territories_within

# The roles that see incidents (accounts/permissions.py); those that see their whole city.
INCIDENT_ROLES = roles_for(Action.INCIDENT_VIEW)
CITY_WIDE_ROLES = frozenset({Role.CALL_TAKER, Role.DISPATCHER})


def supervisor_incidents(membership: Any) -> Q:
    """The incidents a supervisor's membership covers: its territories (everything inside them,
    and incidents without a place) in its city; an unrestricted membership also its institution's
    incidents, and a city-wide institution's the whole city. The KPIs use the same rule."""
    institution = membership.institution
    city = Q(city_id=institution.city_id)
    narrowed = [t.pk for t in membership.territories.all()]
    if not narrowed and institution.covers_whole_city:
        return city
    inside = territories_within(narrowed or institution.coverage.values_list("pk", flat=True))
    where = (
        Q(locality_id__in=inside)
        | Q(neighbourhood_id__in=inside)
        | Q(locality__isnull=True, neighbourhood__isnull=True)
    ) & city
    return where if narrowed else where | Q(institution_id=institution.pk)


def _membership_incidents(membership: Any) -> Q:
    role = Role(membership.role)
    if role not in INCIDENT_ROLES or membership.institution_id is None:
        return Q(pk__in=[])
    if role in CITY_WIDE_ROLES:
        return Q(city_id=membership.institution.city_id)
    return supervisor_incidents(membership)


def incidents_for(user: Any) -> QuerySet[Incident]:
    """Every incident ``user`` may see and act on, before filters."""
    incidents = Incident.objects.select_related(
        "city", "type", "institution", "locality", "neighbourhood"
    )
    if not user.is_authenticated:
        return incidents.none()
    roles = user.roles()
    if Role.PLATFORM_ADMIN in roles:
        return incidents
    if not roles & INCIDENT_ROLES:
        return incidents.none()
    condition = Q(pk__in=[])
    for membership in user.active_memberships:
        condition |= _membership_incidents(membership)
    return incidents.filter(condition)


def access_incident_by_id(user: Any, incident_id: int, *, for_update: bool = False) -> Incident:
    """The incident, if ``user`` may see it; 404 otherwise. ``for_update`` locks its row."""
    qs = incidents_for(user)
    if for_update:
        qs = qs.select_for_update(of=("self",))
    incident = qs.filter(pk=incident_id).first()
    if incident is None:
        raise Http404(_("Incident not found."))
    return incident
