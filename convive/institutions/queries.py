"""Where a person may act: the territories their memberships cover."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

from convive.accounts.roles import EVERYWHERE_ROLES, Role
from convive.territories.models import City, Territory


@dataclass(frozen=True)
class Scope:
    """The territories a person covers, with everything inside them (by the ``parent`` links).

    Layers that cross others (police quadrants over neighbourhoods) are judged by location:
    a point is in scope when any territory that contains it is.
    """

    everywhere: bool = False
    city_ids: frozenset[int] = field(default_factory=frozenset)
    whole_city_ids: frozenset[int] = field(default_factory=frozenset)
    territory_ids: frozenset[int] = field(default_factory=frozenset)
    top_ids: frozenset[int] = field(default_factory=frozenset)

    def covers_city(self, city: City) -> bool:
        return self.everywhere or city.pk in self.city_ids

    def covers_territory(self, territory: Territory) -> bool:
        if self.everywhere or territory.city_id in self.whole_city_ids:
            return True
        if territory.pk in self.territory_ids:
            return True
        return self.covers_point(territory.city, territory.centroid_lon, territory.centroid_lat)

    def covers_point(self, city: City, lon: float, lat: float) -> bool:
        from convive.territories.queries import locate

        if self.everywhere or city.pk in self.whole_city_ids:
            return True
        if city.pk not in self.city_ids:
            return False
        return any(t.pk in self.territory_ids for t in locate(city, lon=lon, lat=lat))

    def top_territories(self) -> list[Territory]:
        """The covered territories that are not inside another covered one (for display)."""
        return list(
            Territory.objects.filter(pk__in=self.top_ids)
            .select_related("layer", "city")
            .order_by("city__name", "layer_id", "code")
        )


def _descendant_ids(root_ids: Iterable[int]) -> set[int]:
    found = set(root_ids)
    frontier = set(found)
    while frontier:
        children = set(
            Territory.objects.filter(parent_id__in=frontier).values_list("pk", flat=True)
        )
        frontier = children - found
        found |= frontier
    return found


def territories_within(root_ids: Iterable[int]) -> set[int]:
    """``root_ids`` and every territory inside them (by the ``parent`` links)."""
    return _descendant_ids(root_ids)


def scope_for(user: Any, *, role: Role | None = None) -> Scope:
    """The scope of ``user`` over all active memberships, or over those of one ``role``."""
    if not user.is_authenticated:
        return Scope()
    memberships = [m for m in user.active_memberships if role is None or m.role == role]
    if any(Role(m.role) in EVERYWHERE_ROLES for m in memberships):
        return Scope(everywhere=True)
    city_ids: set[int] = set()
    whole_city_ids: set[int] = set()
    roots: set[int] = set()
    for membership in memberships:
        institution = membership.institution
        city_ids.add(institution.city_id)
        narrowed = [t.pk for t in membership.territories.all()]
        if narrowed:
            roots.update(narrowed)
        elif institution.covers_whole_city:
            whole_city_ids.add(institution.city_id)
        else:
            roots.update(institution.coverage.values_list("pk", flat=True))
    return Scope(
        city_ids=frozenset(city_ids),
        whole_city_ids=frozenset(whole_city_ids),
        territory_ids=frozenset(_descendant_ids(roots)),
        top_ids=frozenset(roots),
    )


def list_team(institution: Any) -> list:
    from convive.institutions.models import Membership

    return list(
        Membership.objects.filter(institution=institution, active=True)
        .select_related("user")
        .prefetch_related("territories")
        .order_by("role", "user__username")
    )


def assignable_territories(institution: Any) -> list[Territory]:
    """Territories a membership of ``institution`` may be limited to.

    A whole-city institution offers the city's top layer (its localities); otherwise the
    territories it covers and those directly inside them.
    """
    if institution.covers_whole_city:
        top_layer = institution.city.layers.filter(parent_layer__isnull=True).order_by("pk").first()
        if top_layer is None:
            return []
        return list(top_layer.territories.order_by("code"))
    covered = list(institution.coverage.order_by("code"))
    children = Territory.objects.filter(parent__in=covered).order_by("parent__code", "code")
    return covered + list(children)


def assignable_roles(institution: Any) -> list[Role]:
    from convive.institutions.models import Institution

    if institution.kind == Institution.Kind.CAMERA_PARTNER:
        return [Role.CAMERA_PARTNER, Role.INSTITUTION_ADMIN]
    return [r for r in Role if r not in (Role.CITIZEN, Role.PLATFORM_ADMIN, Role.CAMERA_PARTNER)]
