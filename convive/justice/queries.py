"""Reads about justice services: where a point falls, and the services of a city."""

from __future__ import annotations

from django.db.models import QuerySet

from convive.justice.models import JusticeService
from convive.territories.models import City, Layer, Territory
from convive.territories.queries import locate


def locality_at(city: City, *, lon: float, lat: float) -> Territory | None:
    """The locality (the city's locality layer) that contains the point, if any."""
    for territory in locate(city, lon=lon, lat=lat):
        if territory.layer.kind == Layer.Kind.LOCALITY:
            return territory
    return None


def list_justice_services(city: City) -> QuerySet[JusticeService]:
    return (
        JusticeService.objects.filter(city=city)
        .select_related("institution", "territory")
        .order_by("kind", "name")
    )
