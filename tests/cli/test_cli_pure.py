"""Commands that need no deployment: naming, password check, working days."""

from __future__ import annotations

import pytest


def test_naming_suggest_json(cli) -> None:
    r = cli("naming", "suggest", "--profile", "ninh-binh", "--full-name", "Nguyễn Ngọc Thành",
            "--agency", "skhcn", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json()["local_part"] == "thanhnn.skhcn"
    assert r.json()["address"] == "thanhnn.skhcn@ninhbinh.gov.vn"
    assert r.json()["rule"] == "NB-5.3"


def test_nt_4_2b_suggest_with_taken(cli) -> None:
    r = cli("naming", "suggest", "--profile", "ninh-thuan", "--full-name", "Lê Văn Tuấn",
            "--agency", "nh", "--taken", "vantuan,tuanlv,tuanlv.nh", "--json")
    assert (r.json()["local_part"], r.json()["rule"]) == ("tuanlv2.nh", "NT-4.2b")


def test_unknown_profile_lists_the_valid_ones(cli) -> None:
    r = cli("naming", "suggest", "--profile", "ha-noi", "--full-name", "Lê Văn A", "--json")
    assert r.exit_code == 2
    for name in ("ninh-binh", "khanh-hoa", "quang-nam", "ninh-thuan", "gia-lai"):
        assert name in r.stderr


@pytest.mark.parametrize("name", ["", "   ", "12345", "Thành", "李小龍 Nguyễn"])
def test_name_that_cannot_produce_an_address_is_exit_2(cli, name) -> None:
    r = cli("naming", "suggest", "--profile", "ninh-binh", "--full-name", name, "--agency",
            "skhcn", "--json")
    assert r.exit_code == 2 and r.stderr.startswith("Lỗi: ") and r.stdout == ""


def test_qn_4_2_batch_leader_keeps_base(cli, tmp_path) -> None:
    f = tmp_path / "people.csv"
    f.write_text("full_name,agency,leader\nNguyễn Thị Thanh Vân,sotttt,no\n"
                 "Nguyễn Thị Tú Vân,sotttt,yes\nNguyen Thi Thu Van,sotttt,false\n",
                 encoding="utf-8")
    r = cli("naming", "suggest-batch", "--profile", "quang-nam", str(f))
    assert r.exit_code == 0, r.stderr
    assert r.stdout.splitlines() == [
        "full_name,agency,local_part,address",
        "Nguyễn Thị Thanh Vân,sotttt,vanntt1,vanntt1@quangnam.gov.vn",
        "Nguyễn Thị Tú Vân,sotttt,vanntt,vanntt@quangnam.gov.vn",
        "Nguyen Thi Thu Van,sotttt,vanntt2,vanntt2@quangnam.gov.vn",
    ]


def test_batch_reports_every_bad_row_with_its_line(cli, tmp_path) -> None:
    f = tmp_path / "bad.csv"
    f.write_text("full_name,agency,leader\nNguyễn Văn Nam,a,maybe\n123,a,no\nLê Văn Tám,a,1\n",
                 encoding="utf-8")
    r = cli("naming", "suggest-batch", "--profile", "quang-nam", str(f))
    assert r.exit_code == 2 and r.stdout == ""
    assert "2" in r.stderr and "3" in r.stderr and "maybe" in r.stderr


def test_batch_missing_column_and_missing_file(cli, tmp_path) -> None:
    f = tmp_path / "cols.csv"
    f.write_text("name,agency\nA B,x\n", encoding="utf-8")
    assert cli("naming", "suggest-batch", "--profile", "quang-nam", str(f)).exit_code == 2
    assert cli("naming", "suggest-batch", "--profile", "quang-nam",
               str(tmp_path / "none.csv")).exit_code == 2


def test_nb_8_2b_password_check_example_is_valid(cli) -> None:
    r = cli("password", "check", "--profile", "ninh-binh", "--username", "thanhnn.skhcn",
            "--full-name", "Nguyễn Ngọc Thành", "--birth-date", "1990-05-12",
            input="MatKhau$789\n")
    assert r.exit_code == 0, r.stdout


def test_password_check_weak_lists_every_rule_vi_and_en(cli) -> None:
    args = ["password", "check", "--profile", "ninh-binh", "--username", "thanhnn.skhcn",
            "--full-name", "Nguyễn Ngọc Thành", "--birth-date", "1990-05-12"]
    vi = cli(*args, input="thanh120590\n")
    en = cli(*args, "--lang", "en", input="thanh120590\n")
    assert vi.exit_code == en.exit_code == 1
    vi_lines = [x for x in vi.stdout.splitlines() if x.startswith("- ")]
    en_lines = [x for x in en.stdout.splitlines() if x.startswith("- ")]
    assert len(vi_lines) == len(en_lines) >= 4  # length, upper, special, name, birth date
    assert vi_lines != en_lines


def test_workdays_add_days_and_minutes(cli) -> None:
    r = cli("workdays", "add", "--profile", "ninh-binh", "--start", "2026-12-31", "--days", "1")
    assert (r.exit_code, r.stdout.strip()) == (0, "2027-01-04")
    r = cli("workdays", "add", "--profile", "ninh-thuan", "--start", "2026-03-06T11:20",
            "--minutes", "30")
    assert (r.exit_code, r.stdout.strip()) == (0, "2026-03-06T13:50")


@pytest.mark.parametrize("args", [
    ("--start", "31/12/2026", "--days", "1"),
    ("--start", "2026-12-31"),
    ("--start", "2026-12-31", "--days", "1", "--minutes", "5"),
    ("--start", "2026-12-31", "--days", "-1"),
])
def test_workdays_bad_input(cli, args) -> None:
    r = cli("workdays", "add", "--profile", "ninh-binh", *args)
    assert r.exit_code == 2 and "Traceback" not in r.stderr
