"""Numbering (GL-10.5, GL-9, Decree 30): gapless, never repeated, per agency, year and
series, under many clerks at once (threads, each with its own database connection: on
PostgreSQL ``SELECT … FOR UPDATE`` on the register row, on SQLite the write lock); a
transaction that fails after taking a number leaves no gap; 1 January restarts at 1."""

from __future__ import annotations

import random
import threading
import time
from collections.abc import Callable
from typing import Any

import pytest
from django.db import OperationalError, connection, transaction

from congvu.eoffice import actions
from congvu.eoffice.models import (
    IncomingDocument,
    OfficeRole,
    OutgoingDocument,
    OutgoingStatus,
    Register,
)
from congvu.eoffice.rules import Series
from tests.conftest import at
from tests.eoffice.conftest import NOW, PARAMS, _person, approved, form, pdf, register


def _load() -> tuple[int, int]:
    """16 clerks × 25 numberings on PostgreSQL; fewer on SQLite, whose writers queue on
    one lock anyway (the test then measures the same property in less time)."""
    return (16, 25) if connection.vendor == "postgresql" else (8, 10)


class Boom(Exception):
    """A failure after the number was taken (e.g. the save of something else)."""


@pytest.fixture
def flushable_audit(transactional_db: Any) -> Any:
    """After a transactional test the database is flushed; on SQLite that is a DELETE the
    audit log's append-only trigger refuses, so the trigger steps aside for it (PostgreSQL
    truncates, which its row trigger does not see)."""
    yield
    if connection.vendor == "sqlite":
        with connection.cursor() as cursor:
            cursor.execute("DROP TRIGGER IF EXISTS audit_no_delete")
            cursor.execute("DELETE FROM audit_auditevent")
            cursor.execute("CREATE TRIGGER audit_no_delete BEFORE DELETE ON audit_auditevent "
                           "BEGIN SELECT RAISE(ABORT, 'the audit log is append-only'); END")


def _approved_rows(office, n: int) -> list[int]:
    """``n`` approved documents (test data: the review steps are tested elsewhere)."""
    rows = [OutgoingDocument(agency=office.agency, department=office.cntt,
                             drafter=office.spec.account, drafter_label="test",
                             status=OutgoingStatus.APPROVED,
                             doc_type="cong-van" if i % 3 else "quyet-dinh",
                             summary=f"Văn bản thử nghiệm số {i}", created_at=NOW)
            for i in range(n)]
    return [d.pk for d in OutgoingDocument.objects.bulk_create(rows)]


def _run_clerks(jobs: list[Callable[[], None]]) -> list[BaseException]:
    errors: list[BaseException] = []
    start = threading.Barrier(len(jobs))

    def run(job: Callable[[], None]) -> None:
        try:
            start.wait()
            job()
        except BaseException as exc:
            errors.append(exc)
        finally:
            connection.close()

    threads = [threading.Thread(target=run, args=(job,)) for job in jobs]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=600)
    return errors


def _retrying(call: Callable[[], Any]) -> Any:
    """A clerk whose attempt fails on a busy database tries again (SQLite's in-memory
    test database reports a locked shared cache at once instead of waiting for it)."""
    give_up = time.monotonic() + 120
    while True:
        try:
            return call()
        except OperationalError as exc:
            if ("locked" not in str(exc) and "busy" not in str(exc)) \
                    or time.monotonic() > give_up:
                raise
            time.sleep(random.uniform(0.005, 0.05))


@pytest.mark.django_db(transaction=True)
def test_gl_10_5_concurrent_clerks_number_without_gap_or_duplicate(office,
                                                                    flushable_audit) -> None:
    CLERKS, EACH = _load()
    clerks = [office.clerk] + [
        _person(office.p, "sotttt", f"Văn Thư {chr(0x41 + i)}",
                [(OfficeRole.CLERK, office.agency, None)]) for i in range(CLERKS - 1)]
    ids = _approved_rows(office, CLERKS * EACH)

    def clerk_job(i: int) -> Callable[[], None]:
        def job() -> None:
            for n, pk in enumerate(ids[i::CLERKS]):
                if n % 5 == 0:
                    # This attempt fails after numbering: everything rolls back.
                    with pytest.raises(Boom):
                        _retrying(lambda pk=pk: _number_then_fail(clerks[i], office, pk))
                _retrying(lambda pk=pk: actions.do_number_outgoing(
                    actor=clerks[i].actor, profile=office.p, outgoing_id=pk, now=NOW))
        return job

    errors = _run_clerks([clerk_job(i) for i in range(CLERKS)])
    assert not errors, errors[:3]
    numbers = sorted(OutgoingDocument.objects.filter(pk__in=ids)
                     .values_list("series", "number"))
    general = [n for s, n in numbers if s == Series.GENERAL]
    assert general == list(range(1, CLERKS * EACH + 1))  # no gap, no duplicate
    register_row = Register.objects.get(agency=office.agency, year=2026, series=Series.GENERAL)
    assert register_row.last_number == CLERKS * EACH
    texts = set(OutgoingDocument.objects.filter(pk__in=ids).values_list("number_text",
                                                                        flat=True))
    assert len(texts) == CLERKS * EACH


def _number_then_fail(clerk, office, pk: int) -> None:
    with transaction.atomic():
        actions.do_number_outgoing(actor=clerk.actor, profile=office.p, outgoing_id=pk,
                                   now=NOW)
        raise Boom


@pytest.mark.django_db(transaction=True)
def test_gl_9_concurrent_registrations_get_consecutive_incoming_numbers(office,
                                                                         flushable_audit
                                                                         ) -> None:
    count = 8

    def job(i: int) -> Callable[[], None]:
        def run() -> None:
            for n in range(5):
                _retrying(lambda n=n: actions.do_register_incoming(
                    actor=office.clerk.actor, profile=office.p, agency_id=office.agency.pk,
                    form=form(number_symbol=f"{i}-{n}/UBND-VP"), upload=pdf(f"{i}-{n}"),
                    now=NOW, params=PARAMS))
        return run

    errors = _run_clerks([job(i) for i in range(count)])
    assert not errors, errors[:3]
    numbers = sorted(IncomingDocument.objects.values_list("number", flat=True))
    assert numbers == list(range(1, count * 5 + 1))


@pytest.mark.django_db
def test_gl_10_5_a_failed_numbering_leaves_no_gap(office) -> None:
    first, second = approved(office), approved(office)
    with pytest.raises(Boom):
        _number_then_fail(office.clerk, office, first.pk)
    first.refresh_from_db()
    assert (first.status, first.number) == (OutgoingStatus.APPROVED, None)
    assert not Register.objects.filter(last_number__gt=0).exists()
    done = actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p,
                                      outgoing_id=second.pk, now=NOW)
    assert done.number == 1


@pytest.mark.django_db
def test_gl_numbers_restart_at_1_on_1_january_local_time(office) -> None:
    def number(when: str) -> OutgoingDocument:
        doc = approved(office, when=at("2026-12-30T09:00"))
        return actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p,
                                          outgoing_id=doc.pk, now=at(when))

    assert number("2026-12-31T15:00").number_text == "Số: 01/QĐ-STTTT"
    last = number("2026-12-31T23:50")  # still 2026 in Gia Lai (16:50 UTC)
    assert (last.year, last.number) == (2026, 2)
    new = number("2027-01-01T00:10")  # 2027 in Gia Lai, 31/12 17:10 UTC
    assert (new.year, new.number, new.number_text) == (2027, 1, "Số: 01/QĐ-STTTT")
    assert new.document_date.isoformat() == "2027-01-01"


@pytest.mark.django_db
def test_gl_9_incoming_numbers_restart_at_1_on_1_january(office) -> None:
    assert register(office, when=at("2026-12-31T16:00")).number == 1
    assert register(office, number_symbol="2/X", when=at("2026-12-31T16:30")).number == 2
    doc = register(office, number_symbol="3/X", when=at("2027-01-04T08:00"))
    assert (doc.year, doc.number) == (2027, 1)


@pytest.mark.django_db
def test_gl_numbers_are_per_agency(office) -> None:
    own = register(office)
    other = actions.do_register_incoming(actor=office.other_clerk.actor, profile=office.p,
                                         agency_id=office.other.pk, form=form(), upload=pdf(),
                                         now=NOW, params=PARAMS)
    assert (own.number, other.number) == (1, 1)
