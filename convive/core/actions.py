"""Writes that belong to no domain: recording what the admin site changed, and audit exports."""

from typing import Any

from django.db import models, transaction
from django.db.models import QuerySet
from django.utils.translation import gettext as _

from convive.accounts.models import User
from convive.core.audit import record_audit_event
from convive.core.errors import ActionError
from convive.core.models import AuditEvent
from convive.core.queries import AuditFilters, last_audit_seq
from convive.core.tags import AuditTag

# An export is built in memory (the site runs under ASGI, which buffers streamed responses
# anyway); past this many rows the person narrows the filters instead.
AUDIT_EXPORT_MAX_ROWS = 50_000


def do_record_admin_change(actor: User, tag: AuditTag, obj: models.Model, message: str) -> None:
    """Audit one addition, change or deletion made in the admin site (inside its transaction)."""
    with transaction.atomic():
        record_audit_event(actor, tag, subject=obj, data={"change": str(message)[:2000]})


def check_export_audit_log(
    actor: User, events: QuerySet[AuditEvent], *, filters: AuditFilters
) -> QuerySet[AuditEvent]:
    """Record that ``actor`` exports ``events`` (already scoped and filtered) and return them.

    The export is bounded to the entries that exist now, so the file holds exactly the number
    of rows recorded, even if entries are appended before it is written. Entries never change,
    so the caller may write the file after the transaction commits.
    """
    up_to_seq = last_audit_seq()
    exported = events.filter(seq__lte=up_to_seq)
    row_count = exported.count()
    if row_count > AUDIT_EXPORT_MAX_ROWS:
        raise ActionError(
            _("The export would hold %(count)d entries; narrow the filters to %(max)d or fewer.")
            % {"count": row_count, "max": AUDIT_EXPORT_MAX_ROWS}
        )
    do_record_audit_export(
        actor, filters=filters.as_data(), row_count=row_count, up_to_seq=up_to_seq
    )
    return exported


def do_record_audit_export(
    actor: User, *, filters: dict[str, Any], row_count: int, up_to_seq: int
) -> AuditEvent:
    """Exporting the log is itself a look at sensitive data: record who, which filters, how many."""
    return record_audit_event(
        actor,
        AuditTag.AUDIT_LOG_EXPORTED,
        data={"filters": filters, "rows": row_count, "up_to_seq": up_to_seq},
    )
