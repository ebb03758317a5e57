"""Type-ahead for the place of a call: the city's own gazetteer (reads only).

A call-taker types a few letters of where it happens ("timiza", "casa de justicia kennedy",
"cuadrante 12") and picks a known place: a territory of any layer (neighbourhood, locality, police
quadrant...) placed at its centre, or a justice service or police station at its own point.
Matching ignores case and accents and wants every typed word to start a word of the place's
name, its layer or its locality, so "san mat" finds "San Mateo" and "alvaro obregon" finds
"Álvaro Obregón".

There is no street geocoder (no outside service, no road data): an address typed freely is kept
as text, and the point comes from the map, the coordinates, or one of these places.
"""

from __future__ import annotations

import unicodedata
from dataclasses import dataclass

from convive.justice.models import JusticeService
from convive.territories.models import City, Layer
from convive.territories.queries import city_index

MAX_PLACES = 8
MIN_QUERY = 2
# Kinds of territory, most useful first when two names match equally well.
LAYER_ORDER = {
    Layer.Kind.NEIGHBOURHOOD: 0,
    Layer.Kind.LOCALITY: 1,
    Layer.Kind.QUADRANT: 2,
    Layer.Kind.OTHER: 3,
}


@dataclass(frozen=True)
class Place:
    """A known place: ``precise`` for a point (a building), not for an area's centre."""

    name: str
    detail: str  # what it is and where: "Barrio · Kennedy", "Casa de Justicia · Calle 10 # 3-2"
    kind: str  # "territory" or "service"
    lon: float
    lat: float
    precise: bool
    address: str = ""  # a service's street address


def fold(text: str) -> str:
    """Lower case, without accents, one space between words."""
    decomposed = unicodedata.normalize("NFD", text or "")
    bare = "".join(c for c in decomposed if unicodedata.category(c) != "Mn")
    return " ".join(bare.lower().replace("#", " ").replace(",", " ").split())


def _matches(words: list[str], haystack: str) -> bool:
    starts = haystack.split()
    return all(any(candidate.startswith(word) for candidate in starts) for word in words)


def search_places(city: City, text: str, *, limit: int = MAX_PLACES) -> list[Place]:
    """The city's places whose name (with its layer and locality) has every word of ``text``
    at the start of one of its words; best first: names that start with the text, then
    neighbourhoods before localities and quadrants, then shorter names. Empty under two letters.
    """
    query = fold(text)
    if len(query) < MIN_QUERY:
        return []
    words = query.split()
    found: list[tuple[tuple, Place]] = []
    for territory in city_index(city).territories.values():
        layer = territory.layer
        parent = territory.parent.name if territory.parent_id else ""
        name = fold(territory.name)
        if not _matches(words, f"{name} {fold(layer.name)} {fold(parent)}"):
            continue
        detail = " · ".join(part for part in (layer.name, parent) if part)
        place = Place(
            territory.name,
            detail,
            "territory",
            territory.centroid_lon,
            territory.centroid_lat,
            False,
        )
        rank = (not name.startswith(query), 1, LAYER_ORDER.get(layer.kind, 9), len(name))
        found.append((rank, place))
    services = JusticeService.objects.filter(city=city).select_related("territory")
    for service in services.only("name", "kind", "address", "lon", "lat", "territory__name"):
        name = fold(service.name)
        locality = service.territory.name if service.territory_id else ""
        if not _matches(words, f"{name} {fold(service.address)} {fold(locality)}"):
            continue
        detail = " · ".join(p for p in (service.get_kind_display(), service.address) if p)
        place = Place(
            service.name, detail, "service", service.lon, service.lat, True, service.address
        )
        found.append(((not name.startswith(query), 0, 0, len(name)), place))
    found.sort(key=lambda pair: (pair[0], pair[1].name))
    return [place for _rank, place in found[:limit]]
