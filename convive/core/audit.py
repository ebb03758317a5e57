"""``record_audit_event``: the one writer of the tamper-evident audit log.

Each entry stores the SHA-256 of its own canonical form, which includes the previous entry's
hash, so that editing, deleting or inserting a row anywhere breaks the chain from that row on.
``verify_audit_chain`` recomputes it (``convive audit_verify``).
"""

from __future__ import annotations

import hashlib
import json
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import UTC
from typing import TYPE_CHECKING, Any

from django.db import connection, models
from django.utils import timezone

from convive.core.models import AuditEvent, AuditHead
from convive.core.tags import AuditTag

if TYPE_CHECKING:
    from convive.accounts.models import User

GENESIS_HASH = "0" * 64
HASHED_FIELDS = (
    "seq",
    "created_at",
    "actor_user_id",
    "actor_username",
    "actor_roles",
    "institution_id",
    "institution_name",
    "tag",
    "subject_type",
    "subject_id",
    "subject_repr",
    "reason",
    "data",
    "prev_hash",
)


def canonical_json(value: Any) -> str:
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=False, default=str)


def compute_hash(fields: dict[str, Any]) -> str:
    payload = {name: fields[name] for name in HASHED_FIELDS}
    created_at = payload["created_at"]
    payload["created_at"] = created_at.astimezone(UTC).isoformat(timespec="microseconds")
    return hashlib.sha256(canonical_json(payload).encode("utf-8")).hexdigest()


def _subject_fields(subject: models.Model | None) -> dict[str, str]:
    if subject is None:
        return {"subject_type": "", "subject_id": "", "subject_repr": ""}
    return {
        "subject_type": subject._meta.label_lower,
        "subject_id": str(subject.pk),
        "subject_repr": str(subject)[:200],
    }


def _actor_fields(actor: User | None, institution: Any) -> dict[str, Any]:
    if actor is None or not getattr(actor, "is_authenticated", False):
        fields: dict[str, Any] = {"actor_user_id": None, "actor_username": "", "actor_roles": ""}
    else:
        fields = {
            "actor_user_id": actor.pk,
            "actor_username": actor.get_username(),
            "actor_roles": ",".join(sorted(actor.role_names())),
        }
    fields["institution_id"] = institution.pk if institution is not None else None
    fields["institution_name"] = str(institution)[:200] if institution is not None else ""
    return fields


def record_audit_event(
    actor: User | None,
    tag: AuditTag,
    *,
    subject: models.Model | None = None,
    data: dict[str, Any] | None = None,
    reason: str = "",
    institution: Any = None,
) -> AuditEvent:
    """Append one entry. Call it only from actions, inside the transaction being recorded.

    ``institution`` is the institution on whose behalf the actor acted; when it is not given
    and the actor belongs to exactly one institution, that one is recorded.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("record_audit_event must run inside the transaction it records.")
    if institution is None and actor is not None and getattr(actor, "is_authenticated", False):
        institution = actor.sole_institution()
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:  # created by migration 0002; recreated after a test database flush
        head = AuditHead.objects.create(pk=1, last_seq=0, last_hash=GENESIS_HASH)
    fields: dict[str, Any] = {
        "seq": head.last_seq + 1,
        # Whole microseconds in UTC: exactly what both databases give back.
        "created_at": timezone.now().astimezone(UTC),
        "tag": str(tag),
        "reason": reason or "",
        "data": canonical_json(data or {}),
        "prev_hash": head.last_hash,
        **_actor_fields(actor, institution),
        **_subject_fields(subject),
    }
    fields["hash"] = compute_hash(fields)
    event = AuditEvent.objects.create(**fields)
    head.last_seq = event.seq
    head.last_hash = event.hash
    head.save(update_fields=["last_seq", "last_hash"])
    return event


@dataclass(frozen=True)
class ChainReport:
    ok: bool
    checked: int
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    problem: str = ""
    head_hash: str = GENESIS_HASH


def _events_in_order(batch_size: int = 5000) -> Iterator[AuditEvent]:
    # Ordered by primary key (insertion order) rather than seq: a row inserted by hand with a
    # plausible seq still shows up where it was slipped in.
    yield from AuditEvent.objects.order_by("pk").iterator(chunk_size=batch_size)


def verify_audit_chain() -> ChainReport:
    """Recompute the chain and name the first entry that does not fit."""
    expected_prev = GENESIS_HASH
    expected_seq = 1
    checked = 0
    for event in _events_in_order():
        fields = {name: getattr(event, name) for name in HASHED_FIELDS}
        problem = ""
        if event.seq != expected_seq:
            problem = (
                f"sequence {event.seq} where {expected_seq} was expected "
                "(missing or inserted entry)"
            )
        elif event.prev_hash != expected_prev:
            problem = "previous-hash does not match the entry before it (entry deleted or inserted)"
        elif compute_hash(fields) != event.hash:
            problem = "content does not match its hash (entry edited)"
        if problem:
            return ChainReport(False, checked, event.seq, event.pk, problem, expected_prev)
        expected_prev = event.hash
        expected_seq += 1
        checked += 1
    head = AuditHead.objects.filter(pk=1).first()
    if head is not None and (head.last_seq != checked or head.last_hash != expected_prev):
        return ChainReport(
            False,
            checked,
            checked + 1 if head.last_seq > checked else checked,
            None,
            f"the chain ends at entry {checked} but the head records entry {head.last_seq} "
            "(newest entries deleted)",
            expected_prev,
        )
    return ChainReport(True, checked, head_hash=expected_prev)
