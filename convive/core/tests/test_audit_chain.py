"""The chain itself: appends, the application's and the database's refusals, tampering found by
``verify_audit_chain`` and ``convive audit_verify`` at the entry where it happened."""

from io import StringIO
from types import SimpleNamespace

import pytest
from django.core.management import call_command
from django.core.management.base import CommandError
from django.db import DatabaseError, connection, transaction
from django.utils import translation

from convive.core import audit
from convive.core.audit import (
    GENESIS_HASH,
    HASHED_FIELDS,
    compute_hash,
    record_audit_event,
    verify_audit_chain,
)
from convive.core.models import AppendOnlyError, AuditEvent, AuditHead
from convive.core.tags import AuditTag

pytestmark = pytest.mark.django_db


@pytest.fixture(autouse=True)
def english():
    """The problems are compared with their English message ids."""
    with translation.override("en"):
        yield


def record(n: int = 1, actor=None, **kwargs) -> list[AuditEvent]:
    events = []
    for i in range(n):
        with transaction.atomic():
            events.append(
                record_audit_event(actor, AuditTag.ADMIN_OBJECT_CHANGED, data={"i": i}, **kwargs)
            )
    return events


def sql(statement: str, params: list | None = None) -> None:
    with connection.cursor() as cursor:
        cursor.execute(statement, params or [])


@pytest.fixture
def unguarded():
    """Lift the append-only trigger inside this test's transaction; the rollback restores it."""
    if connection.vendor == "postgresql":
        sql("ALTER TABLE core_auditevent DISABLE TRIGGER core_auditevent_append_only")
    else:
        sql("DROP TRIGGER core_auditevent_no_update")


def verify_command() -> str:
    out = StringIO()
    with translation.override("en"):
        call_command("audit_verify", stdout=out)
    return out.getvalue()


def broken_command() -> str:
    with translation.override("en"), pytest.raises(CommandError) as excinfo:
        call_command("audit_verify", stdout=StringIO())
    return str(excinfo.value)


def skip_ids(count: int) -> None:
    """Leave a gap in the primary keys, as rolled-back transactions do on PostgreSQL."""
    if connection.vendor == "postgresql":
        sql(
            "SELECT setval(pg_get_serial_sequence('core_auditevent', 'id'), "
            "(SELECT MAX(id) FROM core_auditevent) + %s)",
            [count],
        )
    else:
        sql("UPDATE sqlite_sequence SET seq = seq + %s WHERE name = 'core_auditevent'", [count])


def insert_forged(*, pk: int | None = None, seq: int, prev_hash: str) -> int:
    """Insert a row by hand whose own hash is right: the forger knows the algorithm."""
    fields = {
        name: getattr(AuditEvent.objects.order_by("seq").first(), name) for name in HASHED_FIELDS
    }
    fields.update(seq=seq, prev_hash=prev_hash, data='{"forged":true}')
    fields["hash"] = compute_hash(fields)
    if pk is not None:
        fields["id"] = pk
    columns = ", ".join(fields)
    placeholders = ", ".join(["%s"] * len(fields))
    sql(f"INSERT INTO core_auditevent ({columns}) VALUES ({placeholders})", list(fields.values()))  # noqa: S608
    return AuditEvent.objects.get(seq=seq).pk


# --- Appending ------------------------------------------------------------------------------------


def test_the_first_entry_chains_from_the_genesis_hash():
    (first,) = record()
    assert (first.seq, first.prev_hash) == (1, GENESIS_HASH)


def test_entries_chain_one_after_another_with_who_and_where(supervisor, world):
    before = AuditHead.objects.get()  # the world fixture records an entry of its own
    first, second = record(2, actor=supervisor)
    assert (first.seq, second.seq) == (before.last_seq + 1, before.last_seq + 2)
    assert first.prev_hash == before.last_hash
    assert second.prev_hash == first.hash
    assert first.actor_username == "supervisora"
    assert first.actor_roles == "supervisor"
    assert first.institution_id == world.police.pk
    assert first.institution_name == "Policía Metropolitana"
    head = AuditHead.objects.get()
    assert (head.last_seq, head.last_hash) == (second.seq, second.hash)


def test_stored_entries_hash_to_what_was_recorded(platform_admin):
    (event,) = record(actor=platform_admin, reason="lost phone", subject=platform_admin)
    stored = AuditEvent.objects.get(pk=event.pk)
    assert compute_hash({name: getattr(stored, name) for name in HASHED_FIELDS}) == stored.hash
    assert stored.subject_type == "accounts.user"
    assert stored.subject_id == str(platform_admin.pk)
    assert stored.reason == "lost phone"
    assert stored.institution_id is None


def test_recording_needs_the_transaction_it_records(monkeypatch):
    monkeypatch.setattr(audit, "connection", SimpleNamespace(in_atomic_block=False))
    with pytest.raises(RuntimeError, match="inside the transaction"):
        record_audit_event(None, AuditTag.ADMIN_OBJECT_CHANGED)


def test_a_flushed_head_is_recreated_on_an_empty_log():
    AuditHead.objects.all().delete()
    (event,) = record()
    assert event.seq == 1
    assert verify_audit_chain().ok


def test_a_deleted_head_over_a_non_empty_log_is_refused_and_reported():
    record(2)
    AuditHead.objects.all().delete()
    with pytest.raises(RuntimeError, match="head"):
        record()
    report = verify_audit_chain()
    assert not report.ok
    assert report.first_broken_seq == 2
    assert "head" in report.problem


def test_an_empty_log_verifies():
    assert verify_audit_chain() == audit.ChainReport(True, 0)


def test_entries_appended_while_verifying_are_not_taken_for_deletions(monkeypatch):
    record(3)
    real_read_head = audit._read_head
    calls = []

    def read_head_after_an_append():
        if not calls:  # another transaction commits between the walk and the head read
            record(1)
        calls.append(1)
        return real_read_head()

    monkeypatch.setattr(audit, "_read_head", read_head_after_an_append)
    report = verify_audit_chain()
    assert report.ok, report
    assert report.checked == 4


# --- The application refuses changes --------------------------------------------------------------


def test_saving_an_existing_entry_is_refused():
    (event,) = record()
    event.reason = "changed"
    with pytest.raises(AppendOnlyError):
        event.save()


def test_deleting_an_entry_is_refused():
    (event,) = record()
    with pytest.raises(AppendOnlyError):
        event.delete()


def test_queryset_update_and_delete_are_refused():
    record(2)
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.filter(seq=1).update(reason="changed")
    with pytest.raises(AppendOnlyError):
        AuditEvent.objects.all().delete()
    assert AuditEvent.objects.count() == 2


# --- The database refuses changes -----------------------------------------------------------------


def test_the_database_refuses_a_raw_update():
    record(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql("UPDATE core_auditevent SET reason = 'changed' WHERE seq = 1")
    assert verify_audit_chain().ok


def test_postgresql_refuses_a_raw_delete(postgres):
    record(2)
    with pytest.raises(DatabaseError, match="append-only"), transaction.atomic():
        sql("DELETE FROM core_auditevent WHERE seq = 1")
    assert AuditEvent.objects.count() == 2


# --- Tampering is found at the entry where it happened ------------------------------------------


def test_an_intact_chain_prints_its_count_and_head():
    events = record(3)
    out = verify_command()
    assert "3 entries" in out
    assert f"3:{events[-1].hash}" in out


def test_an_edited_middle_entry_is_named(unguarded):
    events = record(5)
    sql("UPDATE core_auditevent SET data = %s WHERE seq = 3", ['{"i":99}'])
    report = verify_audit_chain()
    assert (report.ok, report.first_broken_seq, report.first_broken_id) == (False, 3, events[2].pk)
    assert report.checked == 2
    assert "edited" in report.problem
    message = broken_command()
    assert f"#3 (id {events[2].pk})" in message
    assert "2 entries before it are intact" in message


def test_an_edited_actor_is_named(unguarded, supervisor):
    events = record(4, actor=supervisor)
    target = events[1].seq
    sql("UPDATE core_auditevent SET actor_username = 'someone_else' WHERE seq = %s", [target])
    assert verify_audit_chain().first_broken_seq == target
    assert f"#{target} (id {events[1].pk})" in broken_command()


def test_an_edit_with_a_recomputed_hash_is_found_at_the_next_entry(unguarded):
    record(4)
    row = AuditEvent.objects.get(seq=2)
    fields = {name: getattr(row, name) for name in HASHED_FIELDS} | {"reason": "covered up"}
    sql(
        "UPDATE core_auditevent SET reason = %s, hash = %s WHERE seq = 2",
        ["covered up", compute_hash(fields)],
    )
    report = verify_audit_chain()
    assert report.first_broken_seq == 3
    assert "previous hash" in report.problem


def test_a_deleted_middle_entry_is_found_at_the_entry_after_it(unguarded):
    events = record(5)
    sql("DELETE FROM core_auditevent WHERE seq = 3")
    report = verify_audit_chain()
    assert (report.first_broken_seq, report.first_broken_id) == (4, events[3].pk)
    assert "3 was expected" in report.problem
    assert "#4 " in broken_command()


def test_a_deleted_newest_entry_is_caught_by_the_head(unguarded):
    record(5)
    sql("DELETE FROM core_auditevent WHERE seq = 5")
    report = verify_audit_chain()
    assert (report.ok, report.first_broken_seq, report.first_broken_id) == (False, 5, None)
    assert report.checked == 4
    assert "#5 (id -)" in broken_command()


def test_a_forged_entry_slipped_into_the_middle_is_named(unguarded):
    _first, second = record(2)
    skip_ids(10)  # room between the second entry and the third
    record(3)
    forged = insert_forged(pk=second.pk + 5, seq=6, prev_hash=second.hash)
    report = verify_audit_chain()
    assert (report.first_broken_seq, report.first_broken_id) == (6, forged)
    assert "3 was expected" in report.problem
    assert f"#6 (id {forged})" in broken_command()


def test_a_middle_entry_replaced_by_a_consistent_forgery_is_found_at_the_next_entry(unguarded):
    events = record(4)
    sql("DELETE FROM core_auditevent WHERE seq = 2")
    insert_forged(pk=events[1].pk, seq=2, prev_hash=events[0].hash)
    report = verify_audit_chain()
    assert (report.first_broken_seq, report.first_broken_id) == (3, events[2].pk)
    assert "previous hash" in report.problem


def test_a_forged_entry_appended_at_the_end_is_named():
    events = record(3)
    forged = insert_forged(seq=4, prev_hash=events[-1].hash)  # plain INSERT: not refused
    report = verify_audit_chain()
    assert (report.first_broken_seq, report.first_broken_id) == (4, forged)
    assert "head" in report.problem
    assert f"#4 (id {forged})" in broken_command()


def test_a_forged_entry_at_the_end_that_does_not_chain_is_named():
    record(3)
    forged = insert_forged(seq=4, prev_hash="f" * 64)
    report = verify_audit_chain()
    assert (report.first_broken_seq, report.first_broken_id) == (4, forged)
    assert "previous hash" in report.problem


def test_a_chain_rewritten_with_its_head_is_caught_by_the_published_anchor(unguarded):
    """What a database superuser can do, and what anchoring the head outside still catches."""
    events = record(3)
    anchor = f"3:{events[-1].hash}"
    prev_hash = events[0].hash
    for row in AuditEvent.objects.filter(seq__gte=2).order_by("seq"):
        fields = {name: getattr(row, name) for name in HASHED_FIELDS}
        fields.update(reason="rewritten", prev_hash=prev_hash)
        prev_hash = compute_hash(fields)
        sql(
            "UPDATE core_auditevent SET reason = %s, prev_hash = %s, hash = %s WHERE id = %s",
            ["rewritten", fields["prev_hash"], prev_hash, row.pk],
        )
    AuditHead.objects.filter(pk=1).update(last_hash=prev_hash)
    assert verify_audit_chain().ok
    with translation.override("en"), pytest.raises(CommandError, match="anchor"):
        call_command("audit_verify", anchor=[anchor], stdout=StringIO())


def test_a_matching_anchor_passes():
    events = record(3)
    out = StringIO()
    call_command("audit_verify", anchor=[f"2:{events[1].hash}"], stdout=out)
    assert f"3:{events[2].hash}" in out.getvalue()


@pytest.mark.parametrize("anchor", ["x:y", "3:abc", "nope"])
def test_a_malformed_anchor_is_an_error(anchor):
    with translation.override("en"), pytest.raises(CommandError, match="SEQ:HASH"):
        call_command("audit_verify", anchor=[anchor], stdout=StringIO())


def test_an_anchor_past_the_log_fails():
    record(1)
    with translation.override("en"), pytest.raises(CommandError, match="not in the log"):
        call_command("audit_verify", anchor=[f"9:{'a' * 64}"], stdout=StringIO())
