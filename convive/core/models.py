"""The audit log: append-only and hash-chained (``convive/core/audit.py`` writes it)."""

import json

from django.db import models
from django.utils.translation import gettext_lazy as _


class AppendOnlyError(Exception):
    """Raised when code tries to change or delete an audit entry."""


class AuditEventQuerySet(models.QuerySet):
    def update(self, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")

    def delete(self):
        raise AppendOnlyError("The audit log is append-only.")


class AuditEvent(models.Model):
    """One recorded action. ``hash`` covers every other column and ``prev_hash``.

    Actor, role and institution are copied as they were at the time, so that later changes to
    accounts never alter (or break) the history.
    """

    seq = models.PositiveBigIntegerField(_("sequence"), unique=True)
    created_at = models.DateTimeField(_("when"), db_index=True)
    actor_user_id = models.BigIntegerField(_("actor id"), null=True, blank=True, db_index=True)
    actor_username = models.CharField(_("actor"), max_length=150, blank=True)
    actor_roles = models.CharField(_("roles"), max_length=200, blank=True)
    institution_id = models.BigIntegerField(
        _("institution id"), null=True, blank=True, db_index=True
    )
    institution_name = models.CharField(_("institution"), max_length=200, blank=True)
    tag = models.CharField(_("action"), max_length=80, db_index=True)
    subject_type = models.CharField(_("object type"), max_length=80, blank=True)
    subject_id = models.CharField(_("object id"), max_length=64, blank=True)
    subject_repr = models.CharField(_("object"), max_length=200, blank=True)
    reason = models.TextField(_("reason"), blank=True)
    data = models.TextField(_("details"), default="{}")  # canonical JSON: hashed byte for byte
    prev_hash = models.CharField(_("previous hash"), max_length=64)
    hash = models.CharField(_("hash"), max_length=64, unique=True)

    objects = AuditEventQuerySet.as_manager()

    class Meta:
        ordering = ["-seq"]
        verbose_name = _("audit event")
        verbose_name_plural = _("audit events")
        indexes = [models.Index(fields=["subject_type", "subject_id"])]

    def __str__(self) -> str:
        return f"#{self.seq} {self.tag}"

    def save(self, *args, **kwargs):
        if not self._state.adding:
            raise AppendOnlyError("The audit log is append-only.")
        super().save(*args, **kwargs)

    def delete(self, *args, **kwargs):
        raise AppendOnlyError("The audit log is append-only.")

    @property
    def data_dict(self) -> dict:
        return json.loads(self.data)


class AuditHead(models.Model):
    """The single row that serialises appends and remembers the last entry.

    Appenders lock it (``select_for_update``), so two transactions can never chain to the same
    predecessor; ``audit_verify`` compares it with the last row, so that deleting the newest
    entries is detected too.
    """

    id = models.PositiveSmallIntegerField(primary_key=True, default=1)
    last_seq = models.PositiveBigIntegerField(default=0)
    last_hash = models.CharField(max_length=64)

    class Meta:
        verbose_name = _("audit chain head")

    def __str__(self) -> str:
        return f"#{self.last_seq} {self.last_hash[:12]}"
