from django.core.management.base import BaseCommand, CommandError

from convive.accounts.endpoints import DOC, GENERATED, read_section, rewrite_document


class Command(BaseCommand):
    help = "Rewrite the generated tables of docs/permissions.md (roles by actions, endpoints)."

    def add_arguments(self, parser) -> None:
        parser.add_argument("--check", action="store_true", help="Fail if the document is stale.")

    def handle(self, *args, check: bool = False, **options) -> None:
        text = DOC.read_text(encoding="utf-8")
        missing = [marker for marker in GENERATED if read_section(text, marker) is None]
        if missing:
            raise CommandError(f"{DOC} lacks the markers <!-- {missing[0]}:start/end -->")
        updated = rewrite_document(text)
        if check:
            if updated != text:
                raise CommandError(f"{DOC} is stale: run `convive permissions_doc`.")
            self.stdout.write("docs/permissions.md is up to date.")
            return
        DOC.write_text(updated, encoding="utf-8")
        self.stdout.write(f"Wrote {DOC}.")
