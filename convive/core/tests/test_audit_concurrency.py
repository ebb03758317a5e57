"""Appends from many transactions at once still form one chain (PostgreSQL: real row locks)."""

import threading
from collections.abc import Callable

import pytest
from django.db import connection, transaction

from convive.core.audit import ChainReport, record_audit_event, verify_audit_chain
from convive.core.models import AuditEvent, AuditHead
from convive.core.tags import AuditTag

WRITERS = 8
APPENDS_EACH = 15


def _in_thread(work: Callable[[], None], errors: list[BaseException]) -> threading.Thread:
    def run() -> None:
        try:
            work()
        except BaseException as exc:  # reported by the test, not lost in the thread
            errors.append(exc)
        finally:
            connection.close()  # each thread has its own connection

    return threading.Thread(target=run)


@pytest.mark.postgres
@pytest.mark.django_db(transaction=True)
@pytest.mark.parametrize("head_flushed", [False, True], ids=["head", "no-head"])
def test_concurrent_appends_form_one_intact_chain(postgres, head_flushed):
    if head_flushed:  # as after a test flush: the first appenders race to create the head
        AuditHead.objects.all().delete()
    start = threading.Barrier(WRITERS + 1)
    writers_done = threading.Event()
    errors: list[BaseException] = []
    reports: list[ChainReport] = []

    def append(writer: int) -> Callable[[], None]:
        def work() -> None:
            start.wait(timeout=30)
            for n in range(APPENDS_EACH):
                with transaction.atomic():
                    record_audit_event(
                        None, AuditTag.ADMIN_OBJECT_CHANGED, data={"writer": writer, "n": n}
                    )

        return work

    def verify_meanwhile() -> None:
        start.wait(timeout=30)
        while not writers_done.is_set():
            reports.append(verify_audit_chain())

    writers = [_in_thread(append(w), errors) for w in range(WRITERS)]
    verifier = _in_thread(verify_meanwhile, errors)
    for thread in [*writers, verifier]:
        thread.start()
    for thread in writers:
        thread.join(timeout=120)
    writers_done.set()
    verifier.join(timeout=120)

    assert errors == []
    total = WRITERS * APPENDS_EACH
    seqs = list(AuditEvent.objects.order_by("seq").values_list("seq", flat=True))
    assert seqs == list(range(1, total + 1))
    pairs = set(AuditEvent.objects.values_list("data", flat=True))
    assert len(pairs) == total  # every append landed once
    report = verify_audit_chain()
    assert (report.ok, report.checked) == (True, total)
    # Verifying while others append never mistakes a fresh entry for a deleted one.
    assert reports
    assert all(r.ok for r in reports), [r for r in reports if not r.ok][:1]
