from django.core.management.base import BaseCommand, CommandError
from django.db import transaction

from convive.core.errors import ActionError
from convive.open311.actions import check_revoke_api_key
from convive.reports.models import ApiKey


class Command(BaseCommand):
    help = "Revoke an Open311 API key by its prefix: later requests with it are refused (403)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("prefix", help="The key's prefix (the part after cvk_).")
        parser.add_argument("--reason", default="", help="Why it is revoked (for the audit log).")

    def handle(self, *args, prefix: str, reason: str = "", **options) -> None:
        try:
            with transaction.atomic(durable=True):
                api_key = ApiKey.objects.select_for_update().filter(prefix=prefix.strip()).first()
                if api_key is None:
                    raise CommandError(f"No API key has the prefix {prefix!r}.")
                check_revoke_api_key(None, api_key, reason=reason)
        except ActionError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(f"Revoked key {api_key.prefix} of “{api_key.name}”.")
