"""``convive load_demo [--seed N] [--if-empty]``: load the demo city into an empty database."""

import time

from django.core.management.base import BaseCommand, CommandError
from django.db import transaction
from django.utils.translation import gettext as _

from convive.core.errors import ActionError
from convive.demo.actions import check_load_demo
from convive.demo.generate import DEFAULT_SEED
from convive.demo.queries import DatabaseState, database_state


class Command(BaseCommand):
    help = "Load the demo city (Villa Esperanza) with its institutions, accounts and services."

    def add_arguments(self, parser):
        parser.add_argument(
            "--seed",
            type=int,
            default=DEFAULT_SEED,
            help=f"Seed of the generated city (default {DEFAULT_SEED}); same seed, same city.",
        )
        parser.add_argument(
            "--if-empty",
            action="store_true",
            help="Do nothing, successfully, when the database already holds a city.",
        )

    def handle(self, *args, seed, if_empty, **options):
        if if_empty:
            state = database_state()
            if state is DatabaseState.DEMO_LOADED:
                self.stdout.write(_("The demo is already loaded; nothing to do."))
                return
            if state is DatabaseState.NOT_EMPTY:
                self.stdout.write(_("The database is not empty; the demo was not loaded."))
                return
        started = time.perf_counter()
        try:
            with transaction.atomic(durable=True):
                load = check_load_demo(None, seed=seed)
        except ActionError as exc:
            raise CommandError(exc.message) from exc
        seconds = time.perf_counter() - started
        counts = ", ".join(f"{slug} {count}" for slug, count in load.territories.items())
        self.stdout.write(
            self.style.SUCCESS(
                _(
                    "Loaded the demo city %(city)s (seed %(seed)d) in %(seconds).1f s: "
                    "territories (%(counts)s), %(institutions)d institutions, "
                    "%(people)d accounts, %(services)d justice services."
                )
                % {
                    "city": load.city.name,
                    "seed": load.seed,
                    "seconds": seconds,
                    "counts": counts,
                    "institutions": load.institutions,
                    "people": load.people,
                    "services": load.services,
                }
            )
        )
