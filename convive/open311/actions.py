"""Writers of Open311 API keys: create and revoke, both audited.

The key format and hashing live in ``convive/reports/apikeys.py`` (next to the ``ApiKey``
model); these two actions are here because only ``actions.py`` modules write the audit log.
"""

from __future__ import annotations

from django.utils import timezone
from django.utils.translation import gettext as _

from convive.accounts.models import User
from convive.core.audit import record_audit_event
from convive.core.errors import ActionError
from convive.core.tags import AuditTag
from convive.reports.apikeys import hash_key, new_key
from convive.reports.models import ApiKey

MAX_NAME = 120


def check_create_api_key(actor: User | None, *, name: str) -> tuple[ApiKey, str]:
    """Create a key for the application ``name``; returns ``(api_key, key)``.

    ``key`` is the only copy of the secret: show it once. ``actor`` is None on the command line.
    The caller holds the transaction.
    """
    name = name.strip()
    if not name:
        raise ActionError(_("Name the application that will use the key."), field="name")
    if len(name) > MAX_NAME:
        raise ActionError(_("The name is limited to 120 characters."), field="name")
    prefix, key = new_key()
    api_key = ApiKey.objects.create(name=name, prefix=prefix, key_hash=hash_key(key))
    record_audit_event(
        actor, AuditTag.OPEN311_KEY_CREATED, subject=api_key, data={"prefix": prefix, "name": name}
    )
    return api_key, key


def check_revoke_api_key(actor: User | None, api_key: ApiKey, *, reason: str = "") -> ApiKey:
    """Revoke a key: every later request with it is refused (403). Kept for the record."""
    if not api_key.active:
        raise ActionError(
            _("The key %(prefix)s is already revoked.") % {"prefix": api_key.prefix}, status=409
        )
    api_key.active = False
    api_key.revoked_at = timezone.now()
    api_key.save(update_fields=["active", "revoked_at"])
    record_audit_event(
        actor,
        AuditTag.OPEN311_KEY_REVOKED,
        subject=api_key,
        reason=reason,
        data={"prefix": api_key.prefix, "name": api_key.name},
    )
    return api_key
