"""Processing statistics (GL-13, GL-15): per department and per person, received,
processed on time, processed late, overdue and pending, on a small constructed case;
who may read them."""

from __future__ import annotations

import datetime as dt

import pytest

from congvu.eoffice import actions
from congvu.eoffice.actions import Recipient
from congvu.eoffice.rules import AssignmentKind as K
from congvu.eoffice.statistics import outcome, processing_statistics
from congvu.errors import CongvuError, Forbidden
from tests.conftest import at
from tests.eoffice.conftest import NOW, PARAMS, Office, register

pytestmark = pytest.mark.django_db

MARCH = (dt.date(2026, 3, 1), dt.date(2026, 3, 31))


def assign(o: Office, doc_id: int, *recipients: Recipient) -> list[int]:
    return [a.pk for a in actions.do_assign_incoming(
        actor=o.director.actor, profile=o.p, document_id=doc_id, now=NOW, params=PARAMS,
        recipients=list(recipients))]


def done(o: Office, who, assignment_id: int, when: dt.datetime) -> None:
    actions.do_record_result(actor=who.actor, assignment_id=assignment_id,
                             result="Đã xử lý xong", now=when)


def build(o: Office) -> None:
    """Five documents in March:

    1. CNTT leads (deadline 10/3), VP coordinates (10/3), the deputy for information;
       the head passes CNTT's on to spec (9/3), who finishes on 6/3: on time.
    2. spec personally (deadline 5/3), finished 12/3: late.
    3. spec2 personally (deadline 4/3), still open on 20/3: overdue.
    4. CNTT handles (no deadline), open: pending.
    5. vp_spec personally (deadline 30/3), open: pending.
    """
    d1, d2, d3, d4, d5 = (register(o, number_symbol=f"{i}/UBND-VX") for i in range(1, 6))
    lead, _coordinate, _inform = assign(
        o, d1.pk, Recipient(K.LEAD, department_id=o.cntt.pk, deadline=dt.date(2026, 3, 10)),
        Recipient(K.COORDINATE, department_id=o.vp.pk, deadline=dt.date(2026, 3, 10)),
        Recipient(K.INFORM, account_id=o.deputy.id))
    (handler,) = [a.pk for a in actions.do_pass_on(
        actor=o.head.actor, profile=o.p, assignment_id=lead, now=NOW, params=PARAMS,
        recipients=[Recipient(K.HANDLE, account_id=o.spec.id, deadline=dt.date(2026, 3, 9))])]
    done(o, o.spec, handler, at("2026-03-06T10:00"))
    (late,) = assign(o, d2.pk, Recipient(K.HANDLE, account_id=o.spec.id,
                                         deadline=dt.date(2026, 3, 5)))
    done(o, o.spec, late, at("2026-03-12T10:00"))
    assign(o, d3.pk, Recipient(K.HANDLE, account_id=o.spec2.id, deadline=dt.date(2026, 3, 4)))
    assign(o, d4.pk, Recipient(K.HANDLE, department_id=o.cntt.pk))
    assign(o, d5.pk, Recipient(K.HANDLE, account_id=o.vp_spec.id,
                               deadline=dt.date(2026, 3, 30)))


def test_gl13_statistics_per_department_and_person(office) -> None:
    build(office)
    stats = processing_statistics(office.director.actor, at("2026-03-20T09:00"),
                                  agency_id=office.agency.pk, start=MARCH[0], end=MARCH[1])
    # (received, on time, late, overdue, pending)
    departments = {r.label: r.counts.as_tuple() for r in stats.departments}
    assert departments == {
        office.cntt.name: (2, 1, 0, 0, 1),  # d1 (passed on, its handler done), d4 open
        office.vp.name: (1, 0, 0, 1, 0),  # coordinating d1: past 10/3, still open
    }
    people = {r.label: (r.unit, r.counts.as_tuple()) for r in stats.people}
    spec = office.spec.account.person.full_name
    assert people[spec] == (office.cntt.name, (2, 1, 1, 0, 0))
    assert people[office.spec2.account.person.full_name] == (office.cntt.name, (1, 0, 0, 1, 0))
    assert people[office.vp_spec.account.person.full_name] == (office.vp.name, (1, 0, 0, 0, 1))
    assert office.deputy.account.person.full_name not in people  # "for information": none
    # The leaders' assignments, a passed-on one counted once: d1 lead + coordinate, d2..d5.
    assert stats.total.as_tuple() == (6, 1, 1, 2, 2)


def test_gl15_a_head_of_department_sees_their_department_only(office) -> None:
    build(office)
    stats = processing_statistics(office.head.actor, at("2026-03-20T09:00"),
                                  agency_id=office.agency.pk, start=MARCH[0], end=MARCH[1])
    assert [r.label for r in stats.departments] == [office.cntt.name]
    assert {r.label for r in stats.people} == {office.spec.account.person.full_name,
                                               office.spec2.account.person.full_name}
    with pytest.raises(Forbidden):
        processing_statistics(office.head.actor, NOW, agency_id=office.agency.pk,
                              start=MARCH[0], end=MARCH[1], department_id=office.vp.pk)


def test_gl13_the_period_counts_assignments_made_in_it(office) -> None:
    build(office)
    stats = processing_statistics(office.clerk.actor, at("2026-03-20T09:00"),
                                  agency_id=office.agency.pk, start=dt.date(2026, 2, 1),
                                  end=dt.date(2026, 2, 28))
    assert stats.departments == [] and stats.people == [] and stats.total.received == 0


def test_gl15_who_may_not_read_the_statistics(office) -> None:
    for person in (office.spec, office.other_director, office.other_clerk):
        with pytest.raises(Forbidden):
            processing_statistics(person.actor, NOW, agency_id=office.agency.pk,
                                  start=MARCH[0], end=MARCH[1])
    with pytest.raises(CongvuError, match=r"trước ngày bắt đầu|ends before"):
        processing_statistics(office.director.actor, NOW, agency_id=office.agency.pk,
                              start=MARCH[1], end=MARCH[0])


def test_gl13_outcome_rules() -> None:
    today = dt.date(2026, 3, 20)
    assert outcome("done", dt.date(2026, 3, 10), dt.date(2026, 3, 10), today) == "on_time"
    assert outcome("done", dt.date(2026, 3, 10), dt.date(2026, 3, 11), today) == "late"
    assert outcome("done", None, dt.date(2026, 3, 11), today) == "on_time"
    assert outcome("in_progress", dt.date(2026, 3, 19), None, today) == "overdue"
    assert outcome("pending", dt.date(2026, 3, 20), None, today) == "pending"
    assert outcome("passed_on", None, None, today) == "pending"
