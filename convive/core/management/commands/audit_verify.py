"""``convive audit_verify``: recompute the audit chain; exit non-zero at the first broken entry.

Operators publish the printed head (``seq:hash``) somewhere the database cannot reach, and later
pass it back with ``--anchor``: a database superuser can rewrite the whole chain consistently,
but not the published hash.
"""

from django.core.management.base import BaseCommand, CommandError, CommandParser
from django.utils.translation import gettext as _
from django.utils.translation import ngettext

from convive.core.audit import ChainReport, check_anchor, verify_audit_chain


def _parse_anchor(value: str) -> tuple[int, str]:
    seq, _sep, digest = value.partition(":")
    if not seq.isdigit() or len(digest) != 64:
        raise CommandError(_("--anchor takes SEQ:HASH, as printed by this command."))
    return int(seq), digest


def _broken(report: ChainReport) -> CommandError:
    entry = _("entry #%(seq)s (id %(id)s)") % {
        "seq": report.first_broken_seq,
        "id": report.first_broken_id if report.first_broken_id is not None else "-",
    }
    before = ngettext(
        "The %(count)d entry before it is intact.",
        "The %(count)d entries before it are intact.",
        report.checked,
    ) % {"count": report.checked}
    message = _("Audit chain BROKEN at %(entry)s: %(problem)s.")
    return CommandError(f"{message % {'entry': entry, 'problem': report.problem}} {before}")


class Command(BaseCommand):
    help = "Check the audit log's hash chain; name the first broken entry."

    def add_arguments(self, parser: CommandParser) -> None:
        parser.add_argument(
            "--anchor",
            action="append",
            default=[],
            metavar="SEQ:HASH",
            help="A head published earlier; fail if that entry no longer has that hash.",
        )

    def handle(self, *args, **options) -> None:
        anchors = [_parse_anchor(value) for value in options["anchor"]]
        report = verify_audit_chain()
        if not report.ok:
            raise _broken(report)
        for seq, digest in anchors:
            problem = check_anchor(seq, digest)
            if problem:
                message = _("Audit chain does not match its anchor: %(problem)s.")
                raise CommandError(message % {"problem": problem})
        intact = ngettext(
            "Audit chain intact: %(count)d entry.",
            "Audit chain intact: %(count)d entries.",
            report.checked,
        )
        self.stdout.write(intact % {"count": report.checked})
        self.stdout.write(
            _("Head: %(seq)d:%(hash)s") % {"seq": report.checked, "hash": report.head_hash}
        )
