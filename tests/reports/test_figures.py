"""The figures of the reports on a seeded province, number by number (issue 6): accounts
by state and agency, the period's movements, requests and SLA compliance with the
profile's rule IDs (QN-5.2, QN-6.2, QN-7.1), sign-in activity (QN-7.2), storage; and
who may read them (operators the province, an agency's IT contact their subtree)."""

from __future__ import annotations

import datetime as dt
from pathlib import Path
from typing import Any

import pytest

from congvu.actors import Actor
from congvu.errors import Forbidden, NotFound
from congvu.reports.build import ReportAsk, build_report
from congvu.reports.model import Report, Table
from tests.reports.conftest import NOW

pytestmark = pytest.mark.django_db

H1 = (dt.date(2026, 1, 1), dt.date(2026, 6, 30))
MiB = 1024 * 1024


def report(actor: Actor, province: dict[str, Any], kind: str, home: Path, *,
           agency: str = "", days: int = 90) -> Report:
    return build_report(actor, province["p"], ReportAsk(kind, *H1, agency=agency, days=days),
                        now=NOW, home=home)


def table(rep: Report, key: str) -> Table:
    return next(t for t in rep.tables if t.key == key)


def test_accounts_by_state_count_every_kind_and_state(province: Any, tmp_path: Path) -> None:
    t = table(report(province["operator"], province, "accounts", tmp_path), "accounts-by-state")
    assert [c.label for c in t.columns] == ["Trạng thái", "Tài khoản cá nhân", "Hộp thư cơ quan",
                                            "Quản trị viên", "Tổng"]
    assert [r[1:] for r in t.rows] == [[0, 0, 0, 0],  # requested
                                        [3, 1, 1, 5],  # active: persons, stc's mailbox, operator
                                        [1, 0, 0, 1],  # suspended (NB-7.1: still receives)
                                        [0, 0, 0, 0],  # locked
                                        [1, 0, 0, 1]]  # deleted
    assert t.total is not None and t.total[1:] == [4, 1, 1, 6]


def test_accounts_by_agency_roll_units_up_into_their_agency(province: Any,
                                                             tmp_path: Path) -> None:
    t = table(report(province["operator"], province, "accounts", tmp_path),
              "accounts-by-agency")
    # Name, code, requested, active, suspended, locked, deleted, total not deleted.
    assert t.rows == [
        ["Sở Tài chính", "stc", 0, 1, 1, 0, 1, 2],
        ["Sở Thông tin và Truyền thông", "sotttt", 0, 3, 0, 0, 0, 3],
        ["Trung tâm Công nghệ thông tin", "ttcntt_sotttt", 0, 1, 0, 0, 0, 1],
        ["Không thuộc cơ quan nào (tài khoản quản trị)", "", 0, 1, 0, 0, 0, 1],
    ]
    assert t.depths == [0, 0, 1, 0]
    assert t.total == ["Tổng cộng", "", 0, 5, 1, 0, 1, 6]


def test_the_periods_movements_by_agency_and_suspensions_by_rule(province: Any,
                                                                  tmp_path: Path) -> None:
    rep = report(province["operator"], province, "accounts", tmp_path)
    t = table(rep, "account-changes")
    # Created, suspended, restored, locked, deleted between 01/01 and 30/06/2026.
    assert t.rows == [["Sở Tài chính", "stc", 3, 2, 1, 0, 1],
                      ["Sở Thông tin và Truyền thông", "sotttt", 2, 0, 0, 0, 0]]
    assert t.total == ["Tổng cộng", "", 5, 2, 1, 0, 1]
    rules = table(rep, "suspensions-by-rule")
    assert rules.rows == [["QN-11.8", 1], ["QN-7.2", 1]] and rules.total == ["Tổng cộng", 2]


def test_requests_by_kind_and_status_filed_in_the_period(province: Any,
                                                          tmp_path: Path) -> None:
    t = table(report(province["operator"], province, "requests", tmp_path), "requests-by-kind")
    # Filed, in progress, done, partly done, rejected, cancelled, total.
    assert [r[1:] for r in t.rows] == [[2, 0, 0, 0, 1, 0, 3],  # new mailboxes (form 01)
                                        [1, 0, 0, 0, 0, 0, 1],  # change (form 02)
                                        [0, 0, 0, 0, 0, 1, 1],  # deletion (form 03)
                                        [0, 0, 0, 0, 0, 0, 0],  # restore
                                        [0, 0, 0, 0, 1, 0, 1]]  # password re-issue
    assert t.total == ["Tổng cộng", 3, 0, 0, 0, 2, 1, 6]


def test_qn_5_2_and_qn_6_2_sla_compliance_by_kind_with_the_rule_ids(province: Any,
                                                                     tmp_path: Path) -> None:
    t = table(report(province["operator"], province, "requests", tmp_path), "sla-by-kind")
    # Kind, rule, deadline, due, on time, late, open overdue, open not yet due, % on time.
    assert t.rows == [
        ["Cấp hộp thư mới (Mẫu 01)", "QN-5.2", "5 ngày làm việc", 3, 1, 0, 1, 1, 0.5],
        ["Xóa hộp thư (Mẫu 03)", "QN-7.1", "5 ngày làm việc", 0, 0, 0, 0, 0, None],
        ["Cấp lại mật khẩu", "QN-6.2", "2 ngày làm việc", 1, 0, 1, 0, 0, 0.0],
    ]
    assert t.total == ["Tổng cộng", "", "", 4, 1, 1, 1, 1, pytest.approx(1 / 3)]
    assert "Khôi phục tài khoản bị tạm khóa" in t.note  # QN sets no restore SLA


def test_sla_by_agency_counts_a_units_requests_in_its_agency(province: Any,
                                                              tmp_path: Path) -> None:
    t = table(report(province["operator"], province, "requests", tmp_path), "sla-by-agency")
    assert t.rows == [["Sở Tài chính", "stc", 2, 0, 1, 1, 0, 0.0],
                      ["Sở Thông tin và Truyền thông", "sotttt", 2, 1, 0, 0, 1, 1.0]]


def test_qn_7_2_sign_in_activity_and_unused_accounts(province: Any, tmp_path: Path) -> None:
    rep = report(province["operator"], province, "usage", tmp_path)
    activity = table(rep, "sign-in-activity")
    assert [r[1] for r in activity.rows] == [2, 1, 0, 0, 0, 1]  # ≤30, 31-90, ..., never
    assert activity.total == ["Tổng cộng", 4, 1.0]
    unused = table(rep, "inactive-accounts")
    # Active accounts, used in 90 days, not used, never signed in, share not used.
    assert unused.rows == [["Sở Tài chính", "stc", 1, 1, 0, 0, 0.0],
                           ["Sở Thông tin và Truyền thông", "sotttt", 3, 2, 1, 1, 1 / 3]]
    shorter = table(report(province["operator"], province, "usage", tmp_path, days=30),
                    "inactive-accounts")
    assert shorter.rows[1][2:6] == [3, 1, 2, 1]  # Bình signed in 80 days ago
    months = table(rep, "sign-ins-by-month")
    assert months.rows == [["03/2026", 3, 2], ["05/2026", 1, 1]]


def test_storage_from_the_maildirs_on_disk_flags_nearly_full_mailboxes(
        province: Any, tmp_path: Path) -> None:
    vmail = tmp_path / "mail" / "vmail" / "quangnam.gov.vn"
    for address, folder, size in ((province["nam"].address, "cur", MiB),
                                   (province["nam"].address, ".Sent/new", MiB // 2),
                                   (province["dung"].address, "cur", 4700 * MiB)):
        where = vmail / address.split("@")[0] / "Maildir" / folder
        where.mkdir(parents=True, exist_ok=True)
        with (where / f"m{size}").open("wb") as fh:
            fh.truncate(size)  # sparse: the size is what counts
    rep = report(province["operator"], province, "usage", tmp_path)
    t = table(rep, "mailbox-storage")
    # Mailboxes, quota MB, used MB, share used, mailboxes ≥ 90% full (QN-9: 5 GB each).
    assert t.rows == [["Sở Tài chính", "stc", 2, 10240.0, 4700.0, 4700 / 10240, 1],
                      ["Sở Thông tin và Truyền thông", "sotttt", 3, 15360.0, 1.5, 1.5 / 15360,
                       0]]
    assert "trên đĩa" in t.note


def test_without_the_mail_plane_storage_shows_quotas_and_says_why(province: Any,
                                                                  tmp_path: Path) -> None:
    t = table(report(province["operator"], province, "usage", tmp_path), "mailbox-storage")
    assert t.rows[0][2:] == [2, 10240.0, None, None, None]
    assert "không có" in t.note.lower() or "chưa" in t.note.lower()


def test_the_usage_report_has_the_key_figures(province: Any, tmp_path: Path) -> None:
    rep = report(province["operator"], province, "usage", tmp_path)
    facts = {label: value for label, value, _kind in rep.facts}
    assert facts["Tài khoản (không tính tài khoản đã xóa)"] == 6
    assert facts["Tài khoản tạo mới trong kỳ"] == 5
    assert facts["Tài khoản đã xóa trong kỳ"] == 1
    assert facts["Yêu cầu gửi đến trong kỳ"] == 6
    assert facts["Tài khoản đang hoạt động không sử dụng trong 90 ngày"] == 1
    assert facts["Yêu cầu được trả lời đúng hạn"] == pytest.approx(1 / 3)
    assert rep.title == "Báo cáo 6 tháng đầu năm 2026" and rep.rule == "QN-13.6"
    assert rep.issuer == "Sở Thông tin và Truyền thông"


def test_an_agency_it_contact_sees_their_subtree_only(province: Any, tmp_path: Path) -> None:
    rep = report(province["contact"], province, "usage", tmp_path)
    text = repr([t.rows for t in rep.tables]) + repr(rep.facts)
    assert "Sở Tài chính" not in text and "stc" not in text
    assert rep.scope == "Sở Thông tin và Truyền thông"
    state = table(build_report(province["contact"], province["p"],
                               ReportAsk("accounts", *H1), now=NOW, home=tmp_path),
                  "accounts-by-state")
    assert [c.label for c in state.columns][-2] == "Hộp thư cơ quan"  # no operators column
    assert state.total == ["Tổng, không tính tài khoản đã xóa", 3, 0, 3]
    agencies = table(build_report(province["contact"], province["p"],
                                  ReportAsk("accounts", *H1), now=NOW, home=tmp_path),
                     "accounts-by-agency")
    assert [r[1] for r in agencies.rows] == ["sotttt", "ttcntt_sotttt"]
    assert table(rep, "sign-ins-by-month").rows == [["03/2026", 3, 2], ["05/2026", 1, 1]]
    sla = table(build_report(province["contact"], province["p"], ReportAsk("requests", *H1),
                             now=NOW, home=tmp_path), "sla-by-kind")
    assert sla.total == ["Tổng cộng", "", "", 2, 1, 0, 0, 1, 1.0]
    unit = build_report(province["contact"], province["p"],
                        ReportAsk("accounts", *H1, agency="ttcntt_sotttt"), now=NOW,
                        home=tmp_path)
    assert unit.scope == "Trung tâm Công nghệ thông tin"
    assert table(unit, "accounts-by-state").total == ["Tổng, không tính tài khoản đã xóa",
                                                      1, 0, 1]


@pytest.mark.parametrize("kind", ["usage", "accounts", "requests"])
def test_an_agency_it_contact_asking_for_another_agency_is_forbidden(
        province: Any, tmp_path: Path, kind: str) -> None:
    with pytest.raises(Forbidden):
        report(province["contact"], province, kind, tmp_path, agency="stc")
    with pytest.raises(NotFound):
        report(province["contact"], province, kind, tmp_path, agency="khong-co")


def test_clerks_civil_servants_and_holders_may_not_read_reports(province: Any,
                                                                tmp_path: Path) -> None:
    for actor in (Actor(kind="clerk", label="clerk:x", agency_ids=frozenset({1})),
                  Actor(kind="self", label="self:x")):
        with pytest.raises(Forbidden):
            report(actor, province, "accounts", tmp_path)


def test_an_operator_may_narrow_to_one_agency(province: Any, tmp_path: Path) -> None:
    rep = report(province["operator"], province, "accounts", tmp_path, agency="stc")
    assert table(rep, "accounts-by-agency").rows == [["Sở Tài chính", "stc", 0, 1, 1, 0, 1, 2]]
    assert rep.scope == "Sở Tài chính"
