"""``convive install_incident_types``: add the default incident types, or bring them up to date."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from convive.incidents.actions import check_install_incident_types


class Command(BaseCommand):
    help = (
        "Install the default catalogue of incident types (Spanish and English). Safe to run "
        "again: types are matched by code, updated, and never deleted."
    )

    def handle(self, *args, **options):
        with transaction.atomic(durable=True):
            counts = check_install_incident_types(None)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Incident types installed: %(created)d added, %(updated)d updated, "
                    "%(unchanged)d unchanged."
                )
                % vars(counts)
            )
        )
