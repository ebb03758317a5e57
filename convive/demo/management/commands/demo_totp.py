"""``convive demo_totp USERNAME``: the current two-factor code of a demo account.

Demo accounts only: for any other account it refuses, so that it can never stand in for the
phone of a real person.
"""

from django.core.management.base import BaseCommand, CommandError

from convive.core.errors import ActionError
from convive.demo.totp import current_code, get_demo_device


class Command(BaseCommand):
    help = "Print the current two-factor (TOTP) code of a demo account."

    def add_arguments(self, parser):
        parser.add_argument("username", help="A demo account, e.g. operadora.")

    def handle(self, *args, username, **options):
        try:
            device = get_demo_device(username)
        except ActionError as exc:
            raise CommandError(exc.message) from exc
        self.stdout.write(current_code(device))
