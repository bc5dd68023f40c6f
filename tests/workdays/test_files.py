"""Calendar files: shipped data, the operator's $CONGVU_HOME/calendar, malformed files."""

from __future__ import annotations

from datetime import date
from pathlib import Path

import pytest

from congvu.errors import CongvuError
from congvu.profiles import load_profile
from congvu.workdays import calendar_for, calendar_paths, load_calendar_files

from . import NO_HOME

SHIPPED = Path(__file__).resolve().parents[2] / "congvu" / "profiles" / "calendar"


def write(folder: Path, name: str, text: str) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / name
    path.write_text(text, encoding="utf-8")
    return path


EXTRA_DAY_OFF = """
[[days_off]]
date = "2026-03-03"
name = "Nghỉ đột xuất (thử nghiệm)"
source = "Quyết định của UBND tỉnh (thử nghiệm)"
"""


def test_shipped_files_load_and_cover_2025_to_2027() -> None:
    names = [p.name for p in calendar_paths(home=NO_HOME)]
    assert {"2025.toml", "2026.toml", "2027.toml"} <= set(names)
    assert names == sorted(names)
    data = load_calendar_files(calendar_paths(home=NO_HOME))
    assert date(2025, 5, 2) in data.days_off
    assert date(2025, 4, 26) in data.working_days
    assert data.working_days[date(2026, 1, 10)].source.startswith("Văn bản 12729/VPCP-KGVX")


def test_operator_file_in_congvu_home_adds_a_day_off(tmp_path: Path) -> None:
    profile = load_profile("ninh-binh")
    before = calendar_for(profile, home=tmp_path)
    assert before.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 3)
    write(tmp_path / "calendar", "local.toml", EXTRA_DAY_OFF)
    after = calendar_for(profile, home=tmp_path)
    assert not after.is_working_day(date(2026, 3, 3))
    assert after.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 4)


def test_operator_file_found_through_the_congvu_home_variable(
        tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    write(tmp_path / "calendar", "local.toml", EXTRA_DAY_OFF)
    monkeypatch.setenv("CONGVU_HOME", str(tmp_path))
    cal = calendar_for(load_profile("ninh-binh"))
    assert cal.add_working_days(date(2026, 3, 2), 1) == date(2026, 3, 4)


def test_operator_file_adds_a_make_up_saturday(tmp_path: Path) -> None:
    write(tmp_path / "calendar", "2027.toml", """
[[working_days]]
date = 2027-02-20
name = "Làm bù (thử nghiệm)"
""")
    cal = calendar_for(load_profile("ninh-binh"), home=tmp_path)
    assert cal.is_working_day(date(2027, 2, 20))
    assert cal.add_working_days(date(2027, 2, 19), 1) == date(2027, 2, 20)


def test_extra_paths_load_after_the_home_folder(tmp_path: Path) -> None:
    extra = write(tmp_path / "elsewhere", "x.toml", EXTRA_DAY_OFF)
    paths = calendar_paths(home=tmp_path / "home", extra=[extra])
    assert paths[-1] == extra
    cal = calendar_for(load_profile("ninh-binh"), home=NO_HOME, extra=[extra.parent])
    assert not cal.is_working_day(date(2026, 3, 3))


def test_duplicates_of_the_package_and_of_other_files_are_harmless(tmp_path: Path) -> None:
    write(tmp_path / "calendar", "dup.toml", """
[[days_off]]
date = "2025-05-02"
name = "Nghỉ bù"
[[days_off]]
date = "2026-02-17"
name = "Tết"
""")
    cal = calendar_for(load_profile("ninh-binh"), home=tmp_path)
    assert not cal.is_working_day(date(2025, 5, 2))


@pytest.mark.parametrize(("text", "fragment"), [
    ('[[days_off]]\ndate = "2026-02-30"\nname = "x"\n', "2026-02-30"),
    ('[[days_off]]\ndate = "31/12/2026"\nname = "x"\n', "31/12/2026"),
    ('[[days_off]]\ndate = 2026-03-03T08:00:00\nname = "x"\n', "2026-03-03T08:00:00"),
    ('[[days_off]]\ndate = 20260303\nname = "x"\n', "20260303"),
    ('[[holidays]]\ndate = "2026-03-03"\nname = "x"\n', "holidays"),
    ('[[days_off]]\ndate = "2026-03-03"\nname = "x"\nreason = "y"\n', "reason"),
    ('[[days_off]]\ndate = "2026-03-03"\n', "name"),
    ('[[days_off]]\nname = "x"\n', "date"),
    ('[[days_off]]\ndate = "2026-03-03"\nname = ""\n', "days_off"),
    ('days_off = "2026-03-03"\n', "days_off"),
    ('[[days_off]\ndate = "2026-03-03"\n', "TOML"),
    ('[[days_off]]\ndate = "2026-03-03"\nname = "x"\n'
     '[[working_days]]\ndate = "2026-03-03"\nname = "y"\n', "2026-03-03"),
])
def test_malformed_operator_file_is_a_congvu_error_naming_file_and_problem(
        tmp_path: Path, text: str, fragment: str) -> None:
    path = write(tmp_path / "calendar", "bad.toml", text)
    with pytest.raises(CongvuError) as info:
        calendar_for(load_profile("ninh-binh"), home=tmp_path)
    assert str(path) in info.value.message
    assert fragment in info.value.message


def test_operator_working_day_clashing_with_a_shipped_day_off_names_both_files(
        tmp_path: Path) -> None:
    path = write(tmp_path / "calendar", "clash.toml",
                 '[[working_days]]\ndate = "2025-05-02"\nname = "x"\n')
    with pytest.raises(CongvuError) as info:
        calendar_for(load_profile("ninh-binh"), home=tmp_path)
    assert str(path) in info.value.message
    assert "2025.toml" in info.value.message
    assert "2025-05-02" in info.value.message


def test_missing_extra_file_and_undecodable_file_are_clear_errors(tmp_path: Path) -> None:
    missing = tmp_path / "missing.toml"
    with pytest.raises(CongvuError) as info:
        calendar_for(load_profile("ninh-binh"), home=NO_HOME, extra=[missing])
    assert str(missing) in info.value.message
    binary = tmp_path / "latin1.toml"
    binary.write_bytes(b'[[days_off]]\ndate = "2026-03-03"\nname = "Ngh\xe9"\n')
    with pytest.raises(CongvuError) as info:
        calendar_for(load_profile("ninh-binh"), home=NO_HOME, extra=[binary])
    assert str(binary) in info.value.message


def test_shipped_files_are_the_package_folder() -> None:
    shipped = sorted(p.name for p in SHIPPED.glob("*.toml"))
    assert shipped == [p.name for p in calendar_paths(home=NO_HOME)]
