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
from django.utils.translation import gettext as _

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


def _lock_head() -> AuditHead:
    """Lock the chain head for this transaction, creating it if a test flush removed it.

    The creating insert ignores a conflict, so transactions that all find no head wait for each
    other on the row instead of failing. A head at entry 0 over a non-empty log (the head row was
    deleted) is refused: restarting at entry 1 would fork the chain.
    """
    head = AuditHead.objects.select_for_update().filter(pk=1).first()
    if head is None:
        AuditHead.objects.bulk_create(
            [AuditHead(pk=1, last_seq=0, last_hash=GENESIS_HASH)], ignore_conflicts=True
        )
        head = AuditHead.objects.select_for_update().get(pk=1)
    if head.last_seq == 0 and AuditEvent.objects.exists():
        raise RuntimeError("The audit chain head does not match the log; run `audit_verify`.")
    return head


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

    The chain head stays locked until the transaction ends, so every other append waits:
    record as late in the transaction as the action allows.
    """
    if not connection.in_atomic_block:
        raise RuntimeError("record_audit_event must run inside the transaction it records.")
    if institution is None and actor is not None and getattr(actor, "is_authenticated", False):
        institution = actor.sole_institution()
    head = _lock_head()
    fields: dict[str, Any] = {
        "seq": head.last_seq + 1,
        # Taken after the lock, so that times follow the sequence. Whole microseconds in UTC:
        # exactly what both databases give back.
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
    """What ``verify_audit_chain`` found.

    When broken, ``first_broken_seq``/``first_broken_id`` name the first entry that does not fit
    (the id is ``None`` when that entry is missing: the newest entries were deleted).
    ``head_hash`` is the hash of the last entry that checked out.
    """

    ok: bool
    checked: int
    first_broken_seq: int | None = None
    first_broken_id: int | None = None
    problem: str = ""
    head_hash: str = GENESIS_HASH


@dataclass
class _Walk:
    """Where the walk along the chain has got to."""

    checked: int = 0
    last_pk: int | None = None  # None: start from the first row, whatever its key
    last_hash: str = GENESIS_HASH


def _after(pk: int | None) -> models.QuerySet[AuditEvent]:
    return AuditEvent.objects.all() if pk is None else AuditEvent.objects.filter(pk__gt=pk)


def _events_after(pk: int | None, batch_size: int = 5000) -> Iterator[AuditEvent]:
    # Ordered by primary key (insertion order) rather than seq: a row inserted by hand with a
    # plausible seq still shows up where it was slipped in. Appends are serialised by the head
    # lock, so honest entries get their keys (and commit) in seq order.
    yield from _after(pk).order_by("pk").iterator(chunk_size=batch_size)


def _problem_with(event: AuditEvent, walk: _Walk) -> str:
    expected_seq = walk.checked + 1
    if event.seq != expected_seq:
        return _("sequence %(seq)d where %(expected)d was expected (entry missing or inserted)") % {
            "seq": event.seq,
            "expected": expected_seq,
        }
    if event.prev_hash != walk.last_hash:
        return _("previous hash does not match the entry before it (entry deleted or inserted)")
    if compute_hash({name: getattr(event, name) for name in HASHED_FIELDS}) != event.hash:
        return _("content does not match its hash (entry edited)")
    return ""


def _walk_on(walk: _Walk) -> ChainReport | None:
    """Check the entries after ``walk.last_pk``; a report if one is broken, else None."""
    for event in _events_after(walk.last_pk):
        problem = _problem_with(event, walk)
        if problem:
            return ChainReport(False, walk.checked, event.seq, event.pk, problem, walk.last_hash)
        walk.checked += 1
        walk.last_pk = event.pk
        walk.last_hash = event.hash
    return None


def _read_head() -> AuditHead | None:
    return AuditHead.objects.filter(pk=1).first()


def _compare_head(walk: _Walk, head: AuditHead | None) -> ChainReport:
    """The entries fit together; do they end where the head says the chain ends?"""
    if head is None:
        if walk.checked == 0:
            return ChainReport(True, 0)
        problem = _("the chain head row is missing (newest entries may have been deleted)")
        return ChainReport(False, walk.checked, walk.checked, walk.last_pk, problem, walk.last_hash)
    if head.last_seq == walk.checked and head.last_hash == walk.last_hash:
        return ChainReport(True, walk.checked, head_hash=walk.last_hash)
    if head.last_seq > walk.checked:
        problem = _(
            "the chain ends at entry %(checked)d but the head records entry %(head)d "
            "(newest entries deleted)"
        ) % {"checked": walk.checked, "head": head.last_seq}
        return ChainReport(False, walk.checked, walk.checked + 1, None, problem, walk.last_hash)
    # An honest entry commits together with the head update, and the head was read after the
    # entries: entries beyond the head, or a last entry with another hash, were put there by hand.
    seq = min(head.last_seq + 1, walk.checked)
    entry = AuditEvent.objects.filter(seq=seq).values_list("pk", flat=True).first()
    problem = _(
        "the head records entry %(head)d with hash %(hash)s…, which is not how the chain ends "
        "(entry added or replaced by hand)"
    ) % {"head": head.last_seq, "hash": head.last_hash[:12]}
    return ChainReport(False, walk.checked, seq, entry, problem, walk.last_hash)


def verify_audit_chain() -> ChainReport:
    """Recompute the chain and name the first entry that does not fit.

    Entries may be appended while this runs: when the head is ahead of the entries seen, the
    walk goes on with the newer ones instead of reporting them as deleted.
    """
    walk = _Walk()
    while True:
        broken = _walk_on(walk)
        if broken is not None:
            return broken
        head = _read_head()
        if head is None or head.last_seq <= walk.checked:
            return _compare_head(walk, head)
        if not _after(walk.last_pk).exists():
            return _compare_head(walk, head)


def check_anchor(seq: int, expected_hash: str) -> str:
    """Compare entry ``seq`` with a hash published earlier; "" when it matches.

    Run it after ``verify_audit_chain`` passes: a chain that verifies and still holds the
    published hash at ``seq`` has not been rewritten up to ``seq``, even by a database superuser
    who recomputed every hash.
    """
    stored = AuditEvent.objects.filter(seq=seq).values_list("hash", flat=True).first()
    if stored is None:
        return _("entry %(seq)d is not in the log") % {"seq": seq}
    if stored != expected_hash.strip().lower():
        return _("entry %(seq)d has hash %(stored)s, not the published %(published)s") % {
            "seq": seq,
            "stored": stored,
            "published": expected_hash,
        }
    return ""
