"""Batches (QN-4.2 leaders first, every collision policy inside one file)."""

from __future__ import annotations

import random
import re

import pytest

from congvu.accounts.naming import BatchRow, NamingError, suggest_batch, validate_batch

from . import PROFILES, profile


def _row_number(message: str) -> int:
    """The row number a batch message starts with (in any language)."""
    m = re.match(r"\D*?(\d+)\s*:", message)
    assert m, message
    return int(m.group(1))


def test_qn_4_2_seed_example_leader_keeps_base_wherever_they_appear() -> None:
    rows = [BatchRow("Nguyễn Thị Thanh Vân", "sotttt", False),
            BatchRow("Nguyễn Thị Tú Vân", "sotttt", True)]
    out = suggest_batch(profile("quang-nam"), rows, set())
    assert [s.local_part for s in out] == ["vanntt1", "vanntt"]
    assert [s.rule for s in out] == ["QN-4.2", "QN-4.1"]


def test_qn_4_2_without_leader_input_order_wins() -> None:
    rows = [BatchRow("Nguyễn Thị Thanh Vân"), BatchRow("Nguyễn Thị Tú Vân"),
            BatchRow("Nguyễn Thị Tường Vân")]
    out = suggest_batch(profile("quang-nam"), rows, set())
    assert [s.local_part for s in out] == ["vanntt", "vanntt1", "vanntt2"]


def test_qn_4_2_batch_respects_taken() -> None:
    rows = [BatchRow("Nguyễn Thị Thanh Vân"), BatchRow("Nguyễn Thị Tú Vân", leader=True)]
    taken = {"vanntt", "VANNTT1@quangnam.gov.vn"}
    out = suggest_batch(profile("quang-nam"), rows, taken)
    assert [s.local_part for s in out] == ["vanntt3", "vanntt2"]
    assert taken == {"vanntt", "VANNTT1@quangnam.gov.vn"}  # not modified


def test_nt_4_2b_batch_of_namesakes() -> None:
    rows = [BatchRow("Lê Văn Tuấn", "nh")] * 5
    out = suggest_batch(profile("ninh-thuan"), rows, set())
    assert [s.local_part for s in out] == [
        "vantuan", "tuanlv", "tuanlv.nh", "tuanlv2.nh", "tuanlv3.nh"]


def test_nb_5_4_batch_of_namesakes_ranked() -> None:
    rows = [BatchRow("Nguyễn Ngọc Thành", "skhcn")] * 3
    out = suggest_batch(profile("ninh-binh"), rows, set())
    assert [s.local_part for s in out] == ["thanhnn.skhcn", "nnthanh.skhcn", "ngocthanh.skhcn"]
    assert [s.rule for s in out] == ["NB-5.3", "NB-5.4", "NB-5.4"]


@pytest.mark.parametrize("name", PROFILES)
def test_batch_candidates_exclude_addresses_given_to_other_rows(name: str) -> None:
    rows = [BatchRow("Lê Văn Tuấn", "nh")] * 4
    out = suggest_batch(profile(name), rows, set())
    assigned = {s.local_part for s in out}
    assert len(assigned) == 4
    for s in out:
        assert s.candidates[0] == s.local_part
        assert not (set(s.candidates[1:]) & assigned)


@pytest.mark.parametrize("name", PROFILES)
def test_batch_bad_row_error_starts_with_the_row_number(name: str) -> None:
    rows = [BatchRow("Nguyễn Văn Nam", "skhcn"), BatchRow("Nam", "skhcn"),
            BatchRow("", "skhcn")]
    with pytest.raises(NamingError) as err:
        suggest_batch(profile(name), rows, set())
    assert _row_number(err.value.message) == 2


def test_validate_batch_reports_every_problem_with_its_row() -> None:
    p = profile("ninh-binh")
    rows = [BatchRow("Nguyễn Văn Nam", "skhcn"), BatchRow("", "skhcn"),
            BatchRow("Lê Văn 3", "skhcn"), BatchRow("Nguyễn Văn An", None),
            BatchRow("Nguyễn Văn An", "KH&CN"), BatchRow("Trần Thị Bình", "skhcn")]
    problems = validate_batch(p, rows)
    assert [_row_number(m) for m in problems] == [2, 3, 4, 5]
    assert "NB-5.3" in problems[2]
    assert "--agency" in problems[2]
    assert "'&'" in problems[3]


def test_validate_batch_reports_nt_4_2b_agency_needed_in_the_batch() -> None:
    rows = [BatchRow("Lê Văn Tuấn")] * 3
    problems = validate_batch(profile("ninh-thuan"), rows)
    assert [_row_number(m) for m in problems] == [3]
    assert "NT-4.2b" in problems[0]


def test_validate_batch_clean() -> None:
    assert validate_batch(profile("quang-nam"), [BatchRow("Nguyễn Văn Nam")]) == []


def test_empty_batch() -> None:
    assert suggest_batch(profile("quang-nam"), [], set()) == []


_FAMILY = [
    "Nguyễn", "Trần", "Lê", "Phạm", "Hoàng", "Huỳnh", "Phan", "Vũ", "Võ", "Đặng", "Bùi", "Đỗ",
    "Hồ", "Ngô", "Dương", "Lý",
]
_MIDDLE = [
    "Văn", "Thị", "Ngọc", "Minh", "Đức", "Thanh", "Hữu", "Quốc", "Thu", "Kim", "Xuân",
]
_GIVEN = [
    "An", "Anh", "Bình", "Cường", "Dũng", "Hà", "Hải", "Hạnh", "Hương", "Hùng", "Lan", "Linh",
    "Long", "Mai", "Minh", "Nam", "Nga", "Phương", "Quang", "Sơn", "Tâm", "Thảo", "Trang",
    "Tuấn", "Vân", "Yến",
]


@pytest.mark.parametrize("name", PROFILES)
def test_batch_of_10000_rows_is_unique(name: str) -> None:
    """Uniqueness at scale; the speed target lives in bench/naming_batch.py."""
    rng = random.Random(2025)
    rows = [
        BatchRow(
            " ".join([rng.choice(_FAMILY), *rng.sample(_MIDDLE, rng.randint(0, 2)),
                      rng.choice(_GIVEN)]),
            rng.choice(["skhcn", "nh", "stttt", "sonv"]),
            rng.random() < 0.05,
        )
        for _ in range(10_000)
    ]
    taken = {"namnv", "vannam", "nvnam", "namnv.skhcn", "tuanlv.nh"}
    out = suggest_batch(profile(name), rows, taken)
    locals_ = [s.local_part for s in out]
    assert len(set(locals_)) == len(locals_) == 10_000
    assert not set(locals_) & taken


def test_row_numbers_can_be_the_file_line_numbers() -> None:
    rows = [BatchRow("Nguyễn Văn Nam"), BatchRow("Nam")]
    problems = validate_batch(profile("quang-nam"), rows, row_numbers=[2, 5])
    assert [_row_number(m) for m in problems] == [5]
    with pytest.raises(NamingError) as err:
        suggest_batch(profile("quang-nam"), rows, set(), row_numbers=[2, 5])
    assert _row_number(err.value.message) == 5
