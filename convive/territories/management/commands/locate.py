"""``convive locate LAT LON --city SLUG``: one ``layer<TAB>code<TAB>name`` line per layer."""

from __future__ import annotations

from django.core.management.base import BaseCommand, CommandError
from django.http import Http404
from django.utils.translation import gettext as _

from convive.core.errors import ActionError
from convive.core.geo import check_lon_lat
from convive.territories.queries import get_city, locate


class Command(BaseCommand):
    help = (
        "Print the territory of every layer of a city that contains a point, one "
        "'layer<TAB>code<TAB>name' line each; exit code 1 when no territory contains it."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("lat", type=float, help="latitude (WGS84), e.g. 19.4326")
        parser.add_argument("lon", type=float, help="longitude (WGS84), e.g. -99.1332")
        parser.add_argument("--city", required=True, help="city identifier (slug)")

    def handle(self, *args, **options) -> None:
        try:
            lon, lat = check_lon_lat(options["lon"], options["lat"])
        except ActionError as exc:
            raise CommandError(exc.message) from exc
        try:
            city = get_city(options["city"])
        except Http404 as exc:
            raise CommandError(
                _('There is no city "%(slug)s".') % {"slug": options["city"]}
            ) from exc
        territories = locate(city, lon=lon, lat=lat)
        if not territories:
            raise CommandError(
                _("The point (%(lat)s, %(lon)s) is outside every territory of %(city)s.")
                % {"lat": lat, "lon": lon, "city": city.name},
                returncode=1,
            )
        for territory in territories:
            self.stdout.write(f"{territory.layer.slug}\t{territory.code}\t{territory.name}")
