"""Who handles a report: the routing rule for its category and place, or the fallback queue."""

from __future__ import annotations

import copy
from collections.abc import Sequence
from dataclasses import dataclass

from django.conf import settings
from django.utils import translation
from django.utils.translation import gettext as _

from convive.institutions.models import Institution
from convive.reports.models import Category, RoutingRule
from convive.territories.models import City, Layer, Territory
from convive.territories.queries import CityIndex, city_index, city_indexes, territory_ids_near

# A point closer than this to the border of two localities is "on the boundary": a person
# decides who handles it (a GPS fix is rarely better than ~10 m).
BOUNDARY_METRES = 10.0


@dataclass(frozen=True)
class Route:
    institution: Institution | None
    note: str  # why it went where it went (shown to staff); the reason when unrouted


def locality_of(territories: list[Territory]) -> Territory | None:
    return next((t for t in territories if t.layer.kind == Layer.Kind.LOCALITY), None)


def city_near_index(lon: float, lat: float, *, metres: float) -> CityIndex | None:
    """The index of the first city with a territory (of any layer) within ``metres`` of the
    point, or None."""
    for index in city_indexes():
        for layer in index.layers:
            near = territory_ids_near(
                index.city, layer.layer_slug, lon=lon, lat=lat, metres=metres, index=index
            )
            if near:
                return index
    return None


def city_near(lon: float, lat: float, *, metres: float) -> City | None:
    """The first city with a territory (of any layer) within ``metres`` of the point, or None."""
    index = city_near_index(lon, lat, metres=metres)
    return copy.copy(index.city) if index is not None else None


def _locality_layer_slug(index: CityIndex, territories: list[Territory]) -> str | None:
    locality = locality_of(territories)
    if locality is not None:
        return locality.layer.slug
    # In no locality at all (a sliver between two): judge by the city's locality layer.
    kinds = index.layer_kinds.items()
    return next((slug for slug, kind in kinds if kind == Layer.Kind.LOCALITY), None)


def _boundary_localities(
    city: City, index: CityIndex, territories: list[Territory], lon: float, lat: float
) -> list[Territory]:
    """The localities within BOUNDARY_METRES of the point, when there are two or more."""
    slug = _locality_layer_slug(index, territories)
    if slug is None:
        return []
    near = territory_ids_near(city, slug, lon=lon, lat=lat, metres=BOUNDARY_METRES, index=index)
    if len(near) < 2:
        return []
    sides = [copy.copy(index.territories[pk]) for pk in near if pk in index.territories]
    if len(sides) < len(near):  # an import between the index's two reads: ask the database
        sides = list(Territory.objects.filter(pk__in=near).select_related("layer"))
    return sorted(sides, key=lambda t: t.code)


def route_report(
    city: City,
    category: Category,
    territories: list[Territory],
    *,
    lon: float | None,
    lat: float | None,
    index: CityIndex | None = None,
    rules: Sequence[RoutingRule] | None = None,
) -> Route:
    """Pick the institution for a new report, or say why nobody was picked.

    A point on the boundary of two localities goes to the institution that would handle it on
    either side; when the sides disagree, to the fallback queue, where a person decides.

    ``index`` is the city's territory index when the caller has it (``locate`` used it);
    ``rules``, the city's rules for the category whose institution is active, in (priority, pk)
    order (``convive.reports.cache``); both are read when not given.

    The note is kept in the site's language (``LANGUAGE_CODE``), whatever the language of the
    citizen who reported: staff read it later, in the inbox.
    """
    with translation.override(settings.LANGUAGE_CODE):
        return _route(city, category, territories, lon=lon, lat=lat, index=index, rules=rules)


def _route(
    city: City,
    category: Category,
    territories: list[Territory],
    *,
    lon: float | None,
    lat: float | None,
    index: CityIndex | None,
    rules: Sequence[RoutingRule] | None,
) -> Route:
    if rules is None:
        rules = rules_for(city, category)
    if lon is not None and lat is not None:
        index = index if index is not None else city_index(city)
        sides = _boundary_localities(city, index, territories, lon, lat)
        if sides:
            return _route_on_boundary(city, category, sides, rules, index)
        if locality_of(territories) is None:
            return Route(None, _("The place is outside every locality of the city."))
    return _route_by_rules(city, category, territories, rules, index)


def rules_for(city: City, category: Category) -> list[RoutingRule]:
    """The rules of ``city`` for ``category`` whose institution is active, in the order routing
    reads them (a rule pointing at an institution that was closed down would strand reports)."""
    rules = RoutingRule.objects.filter(city=city, category=category, institution__active=True)
    # The model's ordering (city, category...) joins two tables.
    return list(rules.select_related("institution").order_by("priority", "pk"))


def _route_on_boundary(
    city: City,
    category: Category,
    sides: list[Territory],
    rules: Sequence[RoutingRule],
    index: CityIndex,
) -> Route:
    names = " / ".join(t.name for t in sides)
    routes = [_route_by_rules(city, category, [side], rules, index) for side in sides]
    handlers = {route.institution.pk if route.institution else None for route in routes}
    if len(handlers) == 1 and None not in handlers:
        institution = routes[0].institution
        note = _("On the boundary between %(names)s, both handled by %(institution)s.")
        return Route(institution, note % {"names": names, "institution": institution})
    return Route(
        None, _("On the boundary between %(names)s: choose who handles it.") % {"names": names}
    )


def _route_by_rules(
    city: City,
    category: Category,
    territories: list[Territory],
    rules: Sequence[RoutingRule],
    index: CityIndex | None,
) -> Route:
    """The best of ``rules`` for the category at these territories, or why there is none."""
    located = {t.pk: t for t in territories}  # with their layers: no need to join them again
    local = [r for r in rules if r.territory_id in located]
    if local:
        # The deeper layer (a neighbourhood inside a locality) is the more specific rule.
        depth = (index if index is not None else city_index(city)).layer_depths
        best = min(
            local, key=lambda r: (r.priority, -depth.get(located[r.territory_id].layer_id, 0))
        )
        where = located[best.territory_id].name
        return Route(best.institution, _("Rule for %(where)s.") % {"where": where})
    citywide = [r for r in rules if r.territory_id is None]
    if citywide:
        best = min(citywide, key=lambda r: r.priority)
        return Route(best.institution, _("City-wide rule."))
    where = locality_of(territories)
    if where is None:
        return Route(None, _("No place was given and no city-wide rule covers this category."))
    return Route(
        None,
        _("No routing rule for “%(category)s” in %(where)s.")
        % {"category": category.name, "where": where.name},
    )
