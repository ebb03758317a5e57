from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from convive.core.errors import ActionError
from convive.open311.actions import check_create_api_key


class Command(BaseCommand):
    help = "Create an Open311 API key for an application and print it once: only its hash is kept."

    def add_arguments(self, parser) -> None:
        parser.add_argument("name", help="The application that will use the key.")

    def handle(self, *args, name: str, **options) -> None:
        try:
            with transaction.atomic(durable=True):
                api_key, key = check_create_api_key(None, name=name)
        except ActionError as exc:
            raise CommandError(exc.message) from exc
        self.stderr.write(
            f"Key {api_key.prefix} for “{api_key.name}”. Copy it now: it is not shown again."
        )
        self.stdout.write(key)
