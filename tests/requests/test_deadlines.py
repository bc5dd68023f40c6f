"""Deadlines from each profile's SLA, counted in Vietnamese working time (2026 calendar:
Tết 16–20/2, the New Year swap 2/1 ↔ Saturday 10/1, Hùng Kings Monday 27/4, 30/4–1/5)."""

from __future__ import annotations

import pytest

from congvu.requests.actions import do_file_request
from congvu.requests.filing import AddressRow, ChangeRow, PersonRow, RequestForm
from congvu.requests.sla import deadline_for
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency

pytestmark = pytest.mark.django_db


def _new(p, when: str):
    agency(p, "skhcn")
    return do_file_request(actor=OPERATOR, profile=p, kind="new_mailboxes", agency_ref="skhcn",
                           now=at(when), form=RequestForm(
                               requester_name="Trần Văn An",
                               persons=(PersonRow("Nguyễn Ngọc Thành"),)))


def test_nb_6_2b_new_mailbox_3_working_days_skip_tet() -> None:
    req = _new(profile("ninh-binh"), "2026-02-13T09:00")  # Friday before Tết
    # Tết Monday 16 to Friday 20 February is off: Monday 23, Tuesday 24, Wednesday 25.
    assert req.deadline_at == at("2026-02-25T17:00")
    assert (req.deadline_rule, req.sla) == ("NB-6.2b", "3 working days")


def test_nb_6_2b_deadline_skips_hung_kings_monday_30_4_and_1_5() -> None:
    req = _new(profile("ninh-binh"), "2026-04-28T10:00")  # Tuesday
    # Wednesday 29/4 (1), Thursday 30/4 and Friday 1/5 off, Monday 4/5 (2), Tuesday 5/5 (3).
    assert req.deadline_at == at("2026-05-05T17:00")


def test_qn_5_2_new_mailbox_5_working_days_across_tet() -> None:
    req = _new(profile("quang-nam"), "2026-02-12T10:00")  # Thursday
    assert (req.deadline_at, req.deadline_rule) == (at("2026-02-26T17:00"), "QN-5.2")


def test_qn_6_2_password_reissue_counts_the_make_up_saturday() -> None:
    p = profile("quang-nam")
    # Saturday 10/1/2026 is worked in exchange for Friday 2/1: it counts.
    assert deadline_for(p, "password_reissue", at("2026-01-09T15:00")).at == at(
        "2026-01-12T17:00")
    # Friday 2/1/2026 is off (the swap): New Year's Eve + 2 → Monday 5, Tuesday 6.
    due = deadline_for(p, "password_reissue", at("2025-12-31T15:00"))
    assert (due.at, due.rule) == (at("2026-01-06T17:00"), "QN-6.2")


def test_qn_7_1_termination_5_working_days_around_30_4() -> None:
    due = deadline_for(profile("quang-nam"), "deletion", at("2026-04-29T08:00"))
    assert (due.at, due.rule) == (at("2026-05-08T17:00"), "QN-7.1")


def test_nt_6_3b_restore_30_working_minutes_across_the_lunch_break() -> None:
    due = deadline_for(profile("ninh-thuan"), "restore", at("2026-03-10T11:15"))
    assert (due.at, due.rule, str(due.span)) == (
        at("2026-03-10T13:45"), "NT-6.3b", "30 working minutes")


def test_nt_6_3b_restore_across_the_night_and_the_hung_kings_monday() -> None:
    # Friday 16:50: 10 minutes left; Monday 27/4 is off; 20 minutes on Tuesday morning.
    due = deadline_for(profile("ninh-thuan"), "restore", at("2026-04-24T16:50"))
    assert due.at == at("2026-04-28T07:50")


def test_nt_6_3b_restore_filed_before_tet_is_due_after_it() -> None:
    due = deadline_for(profile("ninh-thuan"), "restore", at("2026-02-13T16:45"))
    assert due.at == at("2026-02-23T07:45")


def test_nt_6_3b_restore_filed_at_night_starts_next_morning_and_saturday_10_1_works() -> None:
    p = profile("ninh-thuan")
    assert deadline_for(p, "restore", at("2026-03-10T20:00")).at == at("2026-03-11T08:00")
    assert deadline_for(p, "restore", at("2026-01-10T08:00")).at == at("2026-01-10T08:30")


def test_nt_6_3b_restore_request_stores_the_minute_deadline() -> None:
    p = profile("ninh-thuan")
    agency(p, "sotttt")
    acct, _ = account(p, "sotttt", "Nguyễn Quốc Trạng", at("2026-03-01"))
    from congvu.accounts.actions import do_suspend

    do_suspend(actor=OPERATOR, profile=p, account=acct, now=at("2026-03-02"), rule="NT-6.2b",
               reason="leaked password")
    req = do_file_request(actor=OPERATOR, profile=p, kind="restore", agency_ref="sotttt",
                          now=at("2026-03-10T11:15"),
                          form=RequestForm(requester_name="A", reason="Password leaked",
                                           addresses=(AddressRow(acct.address),)))
    assert (req.deadline_at, req.deadline_rule) == (at("2026-03-10T13:45"), "NT-6.3b")


def test_kh_sets_no_sla_so_no_deadline() -> None:
    req = _new(profile("khanh-hoa"), "2026-02-13T09:00")
    assert (req.deadline_at, req.deadline_rule, req.sla) == (None, "", "")


def test_a_change_request_has_no_operator_deadline() -> None:
    p = profile("quang-nam")
    agency(p, "sotttt")
    acct, _ = account(p, "sotttt", "Nguyễn Văn Nam", at("2026-03-01"))
    req = do_file_request(actor=OPERATOR, profile=p, kind="change", agency_ref="sotttt",
                          now=at("2026-03-10T09:00"), form=RequestForm(
                              requester_name="A",
                              changes=(ChangeRow(acct.address, "1", "Trưởng phòng"),)))
    assert req.deadline_at is None
    assert deadline_for(p, "password_reissue", at("2026-03-10T09:00")) is not None
    assert deadline_for(profile("ninh-binh"), "password_reissue", at("2026-03-10")) is None
