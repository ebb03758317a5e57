"""``convive install_catalogue``: add the default report categories, or bring them up to date."""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from convive.reports.catalogue import do_install_catalogue


class Command(BaseCommand):
    help = (
        "Install the default catalogue of report categories (Spanish and English). Safe to run "
        "again: categories are matched by code, updated, and never deleted."
    )

    def handle(self, *args, **options):
        with transaction.atomic(durable=True):
            counts = do_install_catalogue(None)
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Catalogue installed: %(created)d categories added, %(updated)d updated, "
                    "%(unchanged)d unchanged; %(questions_created)d questions added, "
                    "%(questions_updated)d updated."
                )
                % vars(counts)
            )
        )
