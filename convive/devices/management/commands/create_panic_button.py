from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from convive.core.errors import ActionError
from convive.devices.actions import check_create_panic_button
from convive.institutions.models import Institution
from convive.territories.models import City


class Command(BaseCommand):
    help = (
        "Register a street panic button and print its signing key once: configure the device "
        "with it now, it is not shown again."
    )

    def add_arguments(self, parser) -> None:
        parser.add_argument("city", help="The city's identifier (slug).")
        parser.add_argument("code", help="The device code, e.g. TOTEM-0001.")
        parser.add_argument("--name", required=True, help="Where it stands, e.g. Parque Timiza.")
        parser.add_argument("--lon", type=float, required=True)
        parser.add_argument("--lat", type=float, required=True)
        parser.add_argument("--address", default="")
        parser.add_argument(
            "--institution", default="", help="Slug of the institution that answers its presses."
        )

    def handle(self, *args, **options) -> None:
        city = City.objects.filter(slug=options["city"]).first()
        if city is None:
            raise CommandError(f"No city “{options['city']}”.")
        institution = None
        if options["institution"]:
            institution = Institution.objects.filter(city=city, slug=options["institution"]).first()
            if institution is None:
                raise CommandError(f"No institution “{options['institution']}” in {city}.")
        try:
            with transaction.atomic(durable=True):
                button, secret = check_create_panic_button(
                    None,
                    city=city,
                    code=options["code"],
                    name=options["name"],
                    lon=options["lon"],
                    lat=options["lat"],
                    address=options["address"],
                    institution=institution,
                )
        except ActionError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Panic button {button.code} registered in {city}. Its signing key follows: "
            "copy it into the device now, it is not shown again."
        )
        self.stdout.write(secret)
