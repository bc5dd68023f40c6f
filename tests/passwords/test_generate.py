"""One-time passwords (NB-6.3, NB-7.3, KH-4.2, QN-6.2, NT-6.3b; instead of GL-6.2's 123456)."""

from __future__ import annotations

import dataclasses
import datetime as dt

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from congvu.accounts.passwords import check_password, generate_one_time_password
from congvu.profiles import PasswordPolicy, load_profile

PROFILES = ["ninh-binh", "khanh-hoa", "quang-nam", "ninh-thuan", "gia-lai"]
PERSON = {"username": "thanhnn.skhcn", "full_name": "Nguyễn Ngọc Thành"}
BIRTH = dt.date(1990, 5, 12)
LOOKALIKES = set("0Oo1lI|")


@pytest.fixture(params=PROFILES)
def pol(request: pytest.FixtureRequest) -> PasswordPolicy:
    return load_profile(request.param).password


def test_nb_8_2b_qn_8_1_nt_7_generated_passwords_always_pass(pol: PasswordPolicy) -> None:
    seen = set()
    for _ in range(200):
        pw = generate_one_time_password(pol)
        assert check_password(pol, pw) == [], pw
        # No name or date by construction (the look-alike-free alphabet has no 0, 1, o).
        assert check_password(pol, pw, **PERSON, birth_date=BIRTH) == [], pw
        assert len(pw) == max(16, pol.min_length)
        assert not LOOKALIKES & set(pw), pw
        seen.add(pw)
    assert len(seen) == 200


def test_generated_password_length_at_least_policy_minimum(pol: PasswordPolicy) -> None:
    assert len(generate_one_time_password(pol, length=4)) == pol.min_length
    assert len(generate_one_time_password(pol, length=24)) == 24


@pytest.mark.parametrize("name", ["ninh-binh", "ninh-thuan"])
def test_nb_8_2b_nt_7_generated_specials_come_from_the_list(name: str) -> None:
    pol = load_profile(name).password
    for _ in range(100):
        pw = generate_one_time_password(pol)
        assert all(c.isalnum() or c in pol.special_chars for c in pw), pw


@settings(max_examples=200, deadline=None)
@given(
    min_length=st.integers(min_value=1, max_value=40),
    length=st.integers(min_value=0, max_value=40),
    upper=st.booleans(),
    lower=st.booleans(),
    digit=st.booleans(),
    special=st.booleans(),
    special_chars=st.sampled_from(["", "!@#%$*&", "^", "!", "0O@"]),
)
def test_generated_password_passes_any_policy(
    min_length: int, length: int, upper: bool, lower: bool, digit: bool, special: bool,
    special_chars: str,
) -> None:
    pol = dataclasses.replace(
        load_profile("ninh-binh").password,
        min_length=min_length, require_upper=upper, require_lower=lower,
        require_digit=digit, require_special=special, special_chars=special_chars,
    )
    pw = generate_one_time_password(pol, length)
    assert check_password(pol, pw) == []
    assert len(pw) == max(length, min_length, 3 + special)
