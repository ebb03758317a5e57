"""Writes about justice services. Callers record the audit event: the admin site records each
change it makes (``AuditedModelAdmin``), the demo loader one event for the whole city."""

from __future__ import annotations

from convive.core.geo import h3_cell
from convive.institutions.models import Institution
from convive.justice.models import JusticeService
from convive.justice.queries import locality_at
from convive.territories.models import City, Territory


def do_create_justice_service(
    *,
    city: City,
    kind: JusticeService.Kind,
    name: str,
    lon: float,
    lat: float,
    territory: Territory | None,
    institution: Institution | None = None,
    address: str = "",
    phone: str = "",
    opening_hours: str = "",
) -> JusticeService:
    """Create a service at a checked point (``check_lon_lat``), in the given locality."""
    return JusticeService.objects.create(
        city=city,
        kind=kind,
        name=name,
        lon=lon,
        lat=lat,
        h3_cell=h3_cell(lon, lat),
        territory=territory,
        institution=institution,
        address=address,
        phone=phone,
        opening_hours=opening_hours,
    )


def do_save_justice_service(service: JusticeService) -> JusticeService:
    """Save a service edited by hand: its H3 cell and its locality follow its point.

    A point outside every locality of the city keeps the locality it had.
    """
    service.h3_cell = h3_cell(service.lon, service.lat)
    service.territory = locality_at(service.city, lon=service.lon, lat=service.lat) or (
        service.territory
    )
    service.save()
    return service
