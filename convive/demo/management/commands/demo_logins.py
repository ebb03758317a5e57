"""``convive demo_logins``: who can log in to the demo, and how to pass the second factor."""

import os

from django.core.management.base import BaseCommand
from django.utils.translation import gettext as _

from convive.demo.people import DEMO_PASSWORD
from convive.demo.queries import DemoLogin, list_demo_logins


def _table(header: list[str], rows: list[list[str]]) -> list[str]:
    widths = [max(len(cell) for cell in column) for column in zip(header, *rows, strict=True)]

    def line(cells: list[str]) -> str:
        return "  ".join(cell.ljust(width) for cell, width in zip(cells, widths, strict=True))

    return [line(header), line(["-" * width for width in widths]), *map(line, rows)]


class Command(BaseCommand):
    help = "List the demo accounts, their roles, the shared password and the two-factor secrets."

    def handle(self, *args, **options):
        logins = list_demo_logins()
        if not logins:
            self.stdout.write(_("There are no demo accounts. Load the demo: convive load_demo"))
            return
        self._accounts(logins)
        self._second_factor(logins)
        port = os.environ.get("PORT", "8000")
        self.stdout.write("")
        self.stdout.write(_("Open http://127.0.0.1:%(port)s and log in.") % {"port": port})

    def _accounts(self, logins: list[DemoLogin]) -> None:
        self.stdout.write(
            self.style.WARNING(
                _("Demo accounts (demo data only: the password is published, never reuse it):")
            )
        )
        header = [_("username"), _("role"), _("institution / territory"), _("password")]
        rows = [[x.username, str(x.role.label), x.where or "-", DEMO_PASSWORD] for x in logins]
        for line in _table(header, rows):
            self.stdout.write(line)

    def _second_factor(self, logins: list[DemoLogin]) -> None:
        self.stdout.write("")
        self.stdout.write(
            _(
                "Staff log in with a second factor (TOTP). Add the secret to an authenticator "
                "app, or print the current code with:  .venv/bin/convive demo_totp <username>"
            )
        )
        seen: set[str] = set()
        rows = []
        for login in logins:
            if login.totp_secret and login.username not in seen:
                seen.add(login.username)
                rows.append([login.username, login.totp_secret])
        for line in _table([_("username"), _("TOTP secret (base32)")], rows):
            self.stdout.write(line)
