"""The operators' CLI, in-process against the test database: names, flags, JSON, exits."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.django_db


@pytest.fixture
def skhcn(nb, cli):
    assert cli("org", "add", "--abbr", "skhcn", "--name", "Sở Khoa học và Công nghệ").exit_code == 0
    return nb


def _create(cli, *extra):
    r = cli("account", "create", "--agency", "skhcn", "--full-name", "Nguyễn Ngọc Thành",
            "--now", "2026-01-15T09:00", "--json", *extra)
    assert r.exit_code == 0, r.stderr
    return r.json()


def test_account_create_show_and_change_password(skhcn, cli) -> None:
    a = _create(cli, "--birth-date", "1990-05-12")
    assert a["address"] == "thanhnn.skhcn@ninhbinh.gov.vn"
    assert a["must_change_password"] is True and a["one_time_password"]
    assert a["state"] == "active"
    r = cli("account", "change-password", a["address"], "--now", "2026-01-16T08:00",
            input=f"{a['one_time_password']}\nRv7&kLm2Qz\n")
    assert r.exit_code == 0, r.stderr
    s = cli("account", "show", "thanhnn.skhcn", "--json").json()
    assert {"address", "state", "reason", "must_change_password", "agency", "created_at",
            "last_login_at"} <= set(s)
    assert s["must_change_password"] is False and s["agency"] == "skhcn"
    assert s["created_at"] == "2026-01-15T09:00:00+07:00"
    assert s["password_changed_at"] == "2026-01-16T08:00:00+07:00"


def test_nb_8_2b_change_password_lists_every_broken_rule_in_vietnamese(skhcn, cli) -> None:
    a = _create(cli, "--birth-date", "1990-05-12")
    r = cli("account", "change-password", a["address"], input=f"{a['one_time_password']}\nabc\n")
    assert r.exit_code == 1
    assert "9" in r.stderr and "Lỗi" in r.stderr


def test_change_password_needs_two_lines(skhcn, cli) -> None:
    a = _create(cli)
    r = cli("account", "change-password", a["address"], input="only-one\n")
    assert r.exit_code == 2 and "2" in r.stderr


def test_nb_7_2đ_lifecycle_run_then_show_reason(skhcn, cli) -> None:
    a = _create(cli)
    r = cli("lifecycle", "run", "--now", "2026-02-15T09:00", "--json")
    assert r.exit_code == 0, r.stderr
    report = r.json()
    assert report["total"] == 1
    assert [c["rule"] for c in report["changes"] if c["count"]] == ["NB-7.2đ"]
    s = cli("account", "show", a["address"], "--json").json()
    assert (s["state"], s["reason"]) == ("suspended", "NB-7.2đ")
    again = cli("lifecycle", "run", "--now", "2026-02-15T09:00", "--json").json()
    assert again["total"] == 0


def test_suspend_restore_leave_delete_via_cli(skhcn, cli) -> None:
    a = _create(cli)
    assert cli("account", "suspend", a["address"], "--rule", "NB-7.2c", "--reason", "virus",
               "--now", "2026-01-20").exit_code == 0
    r = cli("account", "restore", a["address"], "--now", "2026-01-21", "--json")
    assert r.exit_code == 0 and r.json()["one_time_password"]
    assert r.json()["reason"] == "NB-7.3"
    r = cli("account", "leave", a["address"], "--effective", "2026-02-01", "--now",
            "2026-02-02", "--json")
    assert r.exit_code == 0, r.stderr
    assert (r.json()["state"], r.json()["reason"]) == ("locked", "NB-7.4")
    assert r.json()["leave"]["delete_at"] == "2026-05-01T00:00:00+07:00"
    assert cli("account", "delete", a["address"], "--now", "2026-02-03").exit_code == 0
    assert cli("account", "show", a["address"], "--json").json()["state"] == "deleted"
    events = cli("audit", "list", "--target", a["address"], "--json").json()
    assert [e["action"] for e in events] == [
        "account.create", "account.suspend", "account.restore", "account.leave", "account.lock",
        "account.delete"]
    assert all(e["actor"].startswith("cli:") for e in events)


@pytest.mark.parametrize("args", [
    ("account", "show", "nobody@ninhbinh.gov.vn"),
    ("account", "create", "--agency", "nope", "--full-name", "Lê Văn A"),
    ("account", "create", "--agency", "skhcn", "--full-name", "123"),
    ("account", "create", "--agency", "skhcn", "--full-name", "Lê Văn A", "--birth-date",
     "12/05/1990"),
    ("account", "create", "--agency", "skhcn", "--full-name", "Lê Văn A", "--now", "yesterday"),
    ("account", "leave", "thanhnn.skhcn", "--effective", "2026-02-30"),
    ("account", "restore", "thanhnn.skhcn"),
    ("lifecycle", "run", "--now", "2026-13-01"),
])
def test_bad_input_is_a_clear_error_with_no_change(skhcn, cli, args) -> None:
    from congvu.audit.models import AuditEvent

    _create(cli)
    before = AuditEvent.objects.count()
    r = cli(*args)
    assert r.exit_code == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("Lỗi: ") and "Traceback" not in r.stderr
    assert AuditEvent.objects.count() == before


def test_messages_in_english_with_lang(skhcn, cli) -> None:
    r = cli("account", "show", "nobody", "--lang", "en")
    assert r.exit_code == 2 and r.stderr.startswith("Error: Unknown address")


def test_org_list_shows_the_tree(skhcn, cli) -> None:
    assert cli("org", "add", "--abbr", "ttcdstt", "--name", "Trung tâm CĐS",
               "--parent", "skhcn").exit_code == 0
    rows = cli("org", "list", "--json").json()
    assert [(r["account_name"], r["depth"]) for r in rows] == [("skhcn", 0), ("ttcdstt.skhcn", 1)]


def test_account_list_filters_by_agency_and_state(skhcn, cli) -> None:
    _create(cli)
    cli("org", "add", "--abbr", "sgddt", "--name", "Sở GD&ĐT")
    cli("account", "create", "--agency", "sgddt", "--full-name", "Lê Văn An")
    assert [a["address"] for a in cli("account", "list", "--agency", "skhcn", "--json").json()] \
        == ["thanhnn.skhcn@ninhbinh.gov.vn"]
    assert cli("account", "list", "--state", "suspended", "--json").json() == []
    assert cli("account", "list", "--state", "sleeping").exit_code == 2


def test_batch_avoids_existing_and_tombstoned_addresses(use_profile, cli, tmp_path) -> None:
    use_profile("quang-nam")
    cli("org", "add", "--abbr", "sotttt", "--name", "Sở TT&TT")
    gone = cli("account", "create", "--agency", "sotttt", "--full-name", "Nguyễn Văn Nam",
               "--json").json()
    assert gone["address"] == "namnv@quangnam.gov.vn"
    assert cli("account", "delete", gone["address"], "--rule", "QN-7.1").exit_code == 0
    cli("account", "create", "--agency", "sotttt", "--full-name", "Nguyễn Văn Nam")
    f = tmp_path / "people.csv"
    f.write_text("full_name,agency,leader\nNguyễn Văn Nam,sotttt,yes\n", encoding="utf-8")
    r = cli("naming", "suggest-batch", "--profile", "quang-nam", str(f))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines()[1] == "Nguyễn Văn Nam,sotttt,namnv2,namnv2@quangnam.gov.vn"


def test_person_with_department_position_and_leader(skhcn, cli) -> None:
    assert cli("org", "add", "--abbr", "vp", "--name", "Văn phòng Sở", "--kind", "department",
               "--parent", "skhcn").exit_code == 0
    r = cli("account", "create", "--agency", "skhcn", "--department", "vp", "--full-name",
            "Trần Thị Hoa", "--position", "Chánh Văn phòng", "--leader", "--birth-date",
            "1980-02-29", "--json")
    assert r.exit_code == 0, r.stderr
    a = r.json()
    assert (a["address"], a["agency"], a["department"]) == (
        "hoatt.skhcn@ninhbinh.gov.vn", "skhcn", "vp.skhcn")
    assert (a["position"], a["leader"], a["birth_date"]) == ("Chánh Văn phòng", True, "1980-02-29")
    bad = cli("account", "create", "--agency", "skhcn", "--department", "kt", "--full-name",
              "Trần Văn Ba")
    assert bad.exit_code == 2 and "kt" in bad.stderr


def test_requested_account_then_activated(skhcn, cli) -> None:
    r = cli("account", "create", "--agency", "skhcn", "--full-name", "Lê Văn An", "--requested",
            "--json")
    assert r.json()["state"] == "requested" and r.json()["one_time_password"] is None
    assert cli("account", "leave", "anlv.skhcn", "--effective", "2026-02-01").exit_code == 2
    act = cli("account", "activate", "anlv.skhcn", "--json").json()
    assert act["state"] == "active" and act["one_time_password"]
