"""``convive rebuild_incident_times``: recompute the first time of each step of every incident.

The actions keep these stamps (``Incident.first_*_at``) as they write the timeline; run this after
events were written some other way (an import, a repair by hand) so that the response-time figures
(docs/kpis.md) read the same as the timeline. Safe to run again: it writes only what differs.
"""

from django.core.management.base import BaseCommand
from django.db import transaction
from django.utils.translation import gettext as _

from convive.incidents.actions import do_rebuild_incident_times


class Command(BaseCommand):
    # Plain, as every command's help: argparse cannot format a lazy translation.
    help = (
        "Recompute each incident's first time of every timeline step (call received ... closed) "
        "from its events, for the response-time figures. Writes only the incidents that differ."
    )

    def handle(self, *args, **options) -> None:
        with transaction.atomic(durable=True):
            changed = do_rebuild_incident_times()
        self.stdout.write(
            self.style.SUCCESS(
                _("Step times recomputed; incidents corrected: %(count)d.") % {"count": changed}
            )
        )
