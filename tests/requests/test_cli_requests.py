"""``congvu request``: an agency contact files (``--as``), the operator processes."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def qn(use_profile, cli):
    p = use_profile("quang-nam")
    for args in (("--abbr", "sotttt", "--name", "Sở Thông tin và Truyền thông"),
                 ("--abbr", "vp", "--name", "Văn phòng", "--parent", "sotttt", "--kind",
                  "department"),
                 ("--abbr", "stc", "--name", "Sở Tài chính")):
        assert cli("org", "add", *args).exit_code == 0
    for agency, name in (("sotttt", "Trần Văn An"), ("stc", "Đỗ Văn Dũng")):
        r = cli("account", "create", "--agency", agency, "--full-name", name, "--json")
        assert r.exit_code == 0, r.stderr
    assert cli("role", "grant", "antv", "agency-it", "--agency", "sotttt").exit_code == 0
    assert cli("role", "grant", "dungdv", "clerk", "--agency", "stc").exit_code == 0
    return p


def test_qn_5_2_file_with_csv_as_the_contact_then_fulfil(qn, cli, tmp_path) -> None:
    table = tmp_path / "mau01.csv"
    table.write_text("Họ và tên,Chức vụ,Bộ phận công tác,Lãnh đạo\n"
                     "Nguyễn Thị Thanh Vân,Chuyên viên,Văn phòng,không\n"
                     "Nguyễn Thị Tú Vân,Chánh Văn phòng,Văn phòng,có\n", "utf-8")
    r = cli("request", "file", "new_mailboxes", "--agency", "sotttt", "--csv", str(table),
            "--as", "antv", "--phone", "0235 3822 123", "--now", "2026-02-12T10:00", "--json")
    assert r.exit_code == 0, r.stderr
    filed = r.json()
    assert (filed["deadline"], filed["deadline_rule"], filed["requester"]["name"]) == (
        "2026-02-26T17:00:00+07:00", "QN-5.2", "Trần Văn An")
    # The other agency's clerk neither sees nor cancels it.
    r = cli("request", "show", str(filed["id"]), "--as", "dungdv", "--json")
    assert r.exit_code == 2 and "Lỗi" in r.stderr
    assert cli("request", "list", "--as", "dungdv", "--json").json() == []
    assert cli("request", "cancel", str(filed["id"]), "--as", "dungdv").exit_code == 2
    mine = cli("request", "list", "--as", "antv", "--json").json()
    assert [x["id"] for x in mine] == [filed["id"]]
    shown = cli("request", "show", str(filed["id"]), "--json").json()
    assert shown["suggestions"]["2"]["local_part"] == "vanntt"
    overdue = cli("request", "list", "--overdue", "--now", "2026-02-27T08:00", "--json").json()
    assert [x["overdue"] for x in overdue] == [True]
    r = cli("request", "fulfil", str(filed["id"]), "--now", "2026-02-24T09:00", "--json")
    assert r.exit_code == 0, r.stderr
    result = r.json()
    assert result["status"] == "done" and not result["late"]
    assert [(o["address"], o["rule"]) for o in result["outcomes"]] == [
        ("vanntt1@quangnam.gov.vn", "QN-4.2"), ("vanntt@quangnam.gov.vn", "QN-4.1")]
    assert all(o["one_time_password"] for o in result["outcomes"])
    again = cli("request", "show", str(filed["id"]), "--json").json()
    assert "one_time_password" not in str(again)


def test_form_errors_exit_2_naming_field_and_rule(qn, cli) -> None:
    r = cli("request", "file", "new_mailboxes", "--agency", "sotttt", "--as", "antv",
            "--full-name", "Nguyễn", "--lang", "en")
    assert r.exit_code == 2
    assert "Row 1, full name:" in r.stderr and "QN-4.1" in r.stderr
    r = cli("request", "file", "change", "--agency", "sotttt", "--address", "antv",
            "--code", "5", "--new-value", "x", "--lang", "en")
    assert r.exit_code == 2 and "change code" in r.stderr
    r = cli("request", "file", "new_mailboxes", "--agency", "stc", "--as", "antv",
            "--full-name", "Lê Văn Tám", "--lang", "en")
    assert r.exit_code == 2 and "only those of their own agency" in r.stderr
    assert cli("request", "list", "--json").json() == []


def test_reissue_take_reject_item_and_cancel(qn, cli) -> None:
    r = cli("request", "file", "password_reissue", "--agency", "stc", "--as", "dungdv",
            "--address", "dungdv", "--now", "2026-03-02T09:00", "--json")
    assert r.exit_code == 0, r.stderr
    rid = str(r.json()["id"])
    assert r.json()["deadline"] == "2026-03-04T17:00:00+07:00"  # QN-6.2
    r = cli("request", "file", "password_reissue", "--agency", "stc", "--as", "dungdv",
            "--address", "dungdv", "--json")
    assert cli("request", "cancel", str(r.json()["id"]), "--as", "dungdv").exit_code == 0
    assert cli("request", "take", rid).exit_code == 0
    assert cli("request", "cancel", rid, "--as", "dungdv").exit_code == 2
    r = cli("request", "reject", rid, "--item", "1", "--reason", "Call us first", "--json")
    assert r.exit_code == 0 and r.json()["status"] == "rejected"
    r = cli("request", "fulfil", rid, "--item", "1", "--address", "x")
    assert r.exit_code == 2
    statuses = [x["status"] for x in cli("request", "list", "--json").json()]
    assert sorted(statuses) == ["cancelled", "rejected"]
