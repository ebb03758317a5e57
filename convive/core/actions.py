"""Writes that belong to no domain: recording what the admin site changed."""

from django.db import models, transaction

from convive.accounts.models import User
from convive.core.audit import record_audit_event
from convive.core.tags import AuditTag


def do_record_admin_change(actor: User, tag: AuditTag, obj: models.Model, message: str) -> None:
    """Audit one addition, change or deletion made in the admin site (inside its transaction)."""
    with transaction.atomic():
        record_audit_event(actor, tag, subject=obj, data={"change": str(message)[:2000]})
