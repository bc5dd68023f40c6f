"""check_password against the profiles: NB-8.2b, QN-8.1/8.2, NT-7 and congvu's default.

Assertions are on stable ``code``s (and on numbers that appear in any language), not on
message texts, so they hold before and after the Vietnamese catalogue is compiled.
"""

from __future__ import annotations

import datetime as dt
from typing import TypedDict

import pytest

from congvu.accounts.passwords import Violation, check_password
from congvu.profiles import PasswordPolicy, load_profile

PROFILES = ["ninh-binh", "khanh-hoa", "quang-nam", "ninh-thuan", "gia-lai"]

# The NB-5.3 example person.
USERNAME = "thanhnn.skhcn"
FULL_NAME = "Nguyễn Ngọc Thành"
BIRTH = dt.date(1990, 5, 12)


class Person(TypedDict, total=False):
    username: str
    full_name: str
    birth_date: dt.date


PERSON: Person = {"username": USERNAME, "full_name": FULL_NAME, "birth_date": BIRTH}

VALID = "MatKhau$789"  # NB-8.2b's own example; valid in every profile


def policy(name: str) -> PasswordPolicy:
    return load_profile(name).password


def codes(violations: list[Violation]) -> list[str]:
    return [v.code for v in violations]


def expect(flag: bool, code: str) -> list[str]:
    return [code] if flag else []


@pytest.fixture(params=PROFILES)
def pol(request: pytest.FixtureRequest) -> PasswordPolicy:
    return policy(request.param)


# --- the regulation's example and "every rule at once" -----------------------------------


def test_nb_8_2b_example_password_is_valid() -> None:
    assert check_password(policy("ninh-binh"), VALID, **PERSON) == []


def test_nb_8_2b_qn_8_1_nt_7_example_password_valid_in_every_profile(
    pol: PasswordPolicy,
) -> None:
    assert check_password(pol, VALID, **PERSON) == []


def test_nb_8_2b_weak_password_lists_every_broken_rule() -> None:
    got = check_password(policy("ninh-binh"), "thanhnn", **PERSON)
    assert codes(got) == [
        "too_short",
        "missing_upper",
        "missing_digit",
        "missing_special",
        "contains_account_name",
        "contains_name_part",
    ]
    assert {v.rule for v in got} == {"NB-8.2b"}
    assert all(v.message for v in got)


def test_nb_8_2b_name_and_birth_date_rules_reported_together() -> None:
    got = check_password(policy("ninh-binh"), "nguyenngocthanh12051990", **PERSON)
    assert codes(got) == [
        "missing_upper",
        "missing_special",
        "contains_full_name",
        "contains_name_part",
        "contains_birth_date",
    ]


def test_qn_8_1_weak_password_lists_every_broken_rule() -> None:
    got = check_password(policy("quang-nam"), "Thanh", **PERSON)
    assert codes(got) == ["too_short", "missing_digit", "missing_special", "contains_name_part"]
    assert {v.rule for v in got} == {"QN-8.1"}


def test_nt_7_empty_password_breaks_every_class_rule() -> None:
    got = check_password(policy("ninh-thuan"), "")
    assert codes(got) == [
        "too_short", "missing_upper", "missing_lower", "missing_digit", "missing_special",
    ]
    assert {v.rule for v in got} == {"NT-7"}


def test_violation_rule_is_the_profiles_rule_id(pol: PasswordPolicy) -> None:
    got = check_password(pol, "x", **PERSON)
    assert got
    assert {v.rule for v in got} == {pol.rule}


def test_violation_is_frozen() -> None:
    v = check_password(policy("ninh-binh"), "x")[0]
    with pytest.raises(AttributeError):
        v.code = "other"  # type: ignore[misc]


# --- length -------------------------------------------------------------------------------


def test_nb_8_2b_qn_8_1_nt_7_min_length(pol: PasswordPolicy) -> None:
    short = "Ab$1" + "x" * (pol.min_length - 5)
    exact = "Ab$1" + "x" * (pol.min_length - 4)
    got = check_password(pol, short, **PERSON)
    assert codes(got) == ["too_short"]
    # The numbers are in the message whatever the language.
    assert str(pol.min_length) in got[0].message
    assert str(pol.min_length - 1) in got[0].message
    assert check_password(pol, exact, **PERSON) == []


def test_nb_8_2b_nine_characters() -> None:
    pol = policy("ninh-binh")
    assert codes(check_password(pol, "MatKh$789")) == []
    assert codes(check_password(pol, "MatK$789")) == ["too_short"]


def test_qn_8_1_and_nt_7_eight_characters() -> None:
    for name in ("quang-nam", "ninh-thuan"):
        assert codes(check_password(policy(name), "MatK$789")) == []
        assert codes(check_password(policy(name), "MaK$789")) == ["too_short"]


# --- character classes --------------------------------------------------------------------


@pytest.mark.parametrize(
    ("password", "code", "flag"),
    [
        ("matkhau$789", "missing_upper", "require_upper"),
        ("MATKHAU$789", "missing_lower", "require_lower"),
        ("MatKhau$abc", "missing_digit", "require_digit"),
        ("MatKhau7890", "missing_special", "require_special"),
    ],
)
def test_nb_8_2b_qn_8_2_nt_7_each_class(
    pol: PasswordPolicy, password: str, code: str, flag: str
) -> None:
    assert codes(check_password(pol, password, **PERSON)) == expect(getattr(pol, flag), code)


def test_nt_7_one_digit_is_enough() -> None:
    assert check_password(policy("ninh-thuan"), "MatKhau$abc1") == []


@pytest.mark.parametrize("special", list("!@#%$*&"))
def test_nb_8_2b_each_listed_special_counts(special: str) -> None:
    assert check_password(policy("ninh-binh"), f"MatKhau{special}789", **PERSON) == []


@pytest.mark.parametrize("special", list("!@#%$*&"))
def test_nt_7_each_listed_special_counts(special: str) -> None:
    assert check_password(policy("ninh-thuan"), f"MatKhau{special}789", **PERSON) == []


@pytest.mark.parametrize("name", ["ninh-binh", "ninh-thuan"])
@pytest.mark.parametrize("other", list("^~-_+=?.,;:'\"()[]{}<>/\\|`"))
def test_nb_8_2b_nt_7_unlisted_symbol_is_not_special(name: str, other: str) -> None:
    got = check_password(policy(name), f"MatKhau{other}789", **PERSON)
    assert codes(got) == ["missing_special"]
    # The allowed characters are listed in the message whatever the language.
    assert "! @ # % $ * &" in got[0].message


def test_nb_8_2b_caret_does_not_count() -> None:
    assert codes(check_password(policy("ninh-binh"), "MatKhau^789")) == ["missing_special"]


def test_nt_7_caret_does_not_count() -> None:
    assert codes(check_password(policy("ninh-thuan"), "MatKhau^789")) == ["missing_special"]


def test_qn_8_2_caret_counts() -> None:
    assert check_password(policy("quang-nam"), "MatKhau^789") == []


@pytest.mark.parametrize("other", list("^~-_+=?.,;:'\"()[]{}<>/\\|`"))
def test_qn_8_2_any_symbol_counts(other: str) -> None:
    assert check_password(policy("quang-nam"), f"MatKhau{other}789", **PERSON) == []


def test_qn_8_2_space_is_not_a_special_character() -> None:
    assert codes(check_password(policy("quang-nam"), "Mat Khau 789")) == ["missing_special"]


def test_unlisted_symbol_counts_when_profile_lists_none(pol: PasswordPolicy) -> None:
    got = codes(check_password(pol, "MatKhau^789", **PERSON))
    assert got == expect(bool(pol.special_chars), "missing_special")


# --- characters that break sign-in elsewhere (Reading) -------------------------------------


def test_control_characters_rejected(pol: PasswordPolicy) -> None:
    assert "control" in codes(check_password(pol, "MatKhau$7\t89"))
    assert "control" in codes(check_password(pol, "MatKhau$789\n"))


def test_leading_or_trailing_space_rejected(pol: PasswordPolicy) -> None:
    assert codes(check_password(pol, " MatKhau$789")) == ["whitespace"]
    assert codes(check_password(pol, "MatKhau$789 ")) == ["whitespace"]


def test_inner_space_allowed(pol: PasswordPolicy) -> None:
    assert check_password(pol, "Mat Khau$789") == []


def test_vietnamese_letters_rejected(pol: PasswordPolicy) -> None:
    # "Mật Khẩu" is typed as different bytes by different input methods (NFC vs NFD).
    assert codes(check_password(pol, "MậtKhẩu$789")) == ["non_ascii"]


# --- account name -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    [
        "Thanhnn$789",       # first part
        "MatKhau$Skhcn1",    # second part
        "THANHNN.skhcn#1",   # the whole account name, any case
        "Thanhnn_Skhcn#1",   # other separator
    ],
)
def test_nb_8_2b_account_name(pol: PasswordPolicy, password: str) -> None:
    got = codes(check_password(pol, password, **PERSON))
    # "thanhnn" also contains the given name "Thành" (a name part in NB and QN).
    also_name = "thanh" in password.lower()
    assert got == (
        expect(pol.forbid_account_name, "contains_account_name")
        + expect(pol.forbid_name_parts and also_name, "contains_name_part")
    )


def test_nb_8_2b_full_address_as_username() -> None:
    pol = policy("ninh-binh")
    person: Person = {**PERSON, "username": "thanhnn.skhcn@ninhbinh.gov.vn"}
    assert codes(check_password(pol, "Xskhcn$1234", **person)) == ["contains_account_name"]
    # The domain is not the account's name.
    assert check_password(pol, "Ninhbinh$1234", **person) == []


def test_nb_8_2b_account_name_message_lists_parts() -> None:
    got = check_password(policy("ninh-binh"), "Thanhnn$789", **PERSON)
    assert "thanhnn.skhcn" in got[0].message
    assert "skhcn" in got[0].message


def test_nt_4_2b_short_part_ignored_numbered_part_counts() -> None:
    pol = policy("ninh-thuan")
    person: Person = {"username": "tuanlv2.nh"}
    assert check_password(pol, "MatKhau$nh789", **person) == []
    assert codes(check_password(pol, "Tuanlv2$abc", **person)) == ["contains_account_name"]
    # Reading: the collision number does not make the rest acceptable.
    assert codes(check_password(pol, "Tuanlv$2024", **person)) == ["contains_account_name"]
    # The whole account name always counts.
    assert codes(check_password(pol, "X$tuanlv2.nh1", **person)) == ["contains_account_name"]


def test_kh_3_2a_short_account_name_counts_whole() -> None:
    # Reading: the account name itself always counts, however short (KH-3.2a "cl@").
    pol = policy("khanh-hoa")
    assert codes(check_password(pol, "Clear$7890", username="cl")) == ["contains_account_name"]
    assert check_password(pol, "Matkhau$7890", username="cl") == []


def test_qn_4_2_numbered_account_name() -> None:
    pol = policy("quang-nam")
    got = check_password(pol, "Vanntt@2024", username="vanntt1", full_name="Nguyễn Thị Tú Vân")
    assert codes(got) == ["contains_account_name", "contains_name_part"]


def test_no_username_no_account_rule(pol: PasswordPolicy) -> None:
    assert check_password(pol, "Thanhnn$789") == []


# --- full name and name parts -------------------------------------------------------------


@pytest.mark.parametrize(
    "password",
    ["NguyenNgocThanh$1", "nguyen.ngoc.THANH$1", "Nguyen Ngoc Thanh$1", "x1$NGUYENngocthanh"],
)
def test_nb_8_2b_full_name(pol: PasswordPolicy, password: str) -> None:
    got = codes(check_password(pol, password, **PERSON))
    assert got == (
        expect(pol.forbid_full_name, "contains_full_name")
        + expect(pol.forbid_name_parts, "contains_name_part")
    )


def test_nb_8_2b_full_name_with_diacritics() -> None:
    got = codes(check_password(policy("ninh-binh"), "NguyễnNgọcThành$1", **PERSON))
    assert got == ["non_ascii", "contains_full_name", "contains_name_part"]


def test_nt_7_profile_full_name_only() -> None:
    pol = policy("ninh-thuan")
    assert codes(check_password(pol, "NguyenNgocThanh$1", **PERSON)) == ["contains_full_name"]
    assert check_password(pol, "Thanh$12345", **PERSON) == []


@pytest.mark.parametrize("word", ["Nguyen", "ngoc", "THANH"])
def test_qn_8_1_each_name_part(pol: PasswordPolicy, word: str) -> None:
    got = codes(check_password(pol, f"{word}$1234Xy", **PERSON))
    assert got == expect(pol.forbid_name_parts, "contains_name_part")


def test_qn_8_1_family_middle_given_name() -> None:
    pol = policy("quang-nam")
    person: Person = {"full_name": "Nguyễn Thị Tú Vân"}
    for word in ("Nguyen", "Thi", "Tu", "Van"):
        got = codes(check_password(pol, f"Xy{word}$9876", **person))
        assert got == ["contains_name_part"], word
    assert check_password(pol, "Xy$9876abcd", **person) == []


def test_qn_8_1_two_letter_words_count() -> None:
    # "Lê" → "le": words of 2+ letters are parts of the name.
    got = codes(check_password(policy("quang-nam"), "Xyle$9876", full_name="Lê Văn Tuấn"))
    assert got == ["contains_name_part"]


def test_qn_8_1_name_part_message_lists_words() -> None:
    got = check_password(policy("quang-nam"), "Thanh$1234x", **PERSON)
    assert "Nguyễn" in got[0].message
    assert "Thành" in got[0].message


def test_nb_8_2b_full_name_rule_ignores_word_order_elsewhere() -> None:
    # Only the name as written (family first) is the "full name"; the given name is
    # still caught as a name part in NB.
    got = codes(check_password(policy("ninh-binh"), "ThanhNguyen$1", **PERSON))
    assert got == ["contains_name_part"]


# --- birth date ---------------------------------------------------------------------------


BIRTH_FORMS = [
    "12051990",    # ddmmyyyy
    "12/05/1990",
    "1990-05-12",  # ISO
    "19900512",    # yyyymmdd
    "120590",      # ddmmyy
    "900512",      # yymmdd
    "12.5.1990",   # unpadded
    "1251990",
    "12 05 1990",
    "12_05_1990",
    "05121990",    # mmddyyyy
    "5121990",     # m d yyyy
    "1990-5-12",   # yyyy m d
]


@pytest.mark.parametrize("form", BIRTH_FORMS)
def test_nb_8_2b_birth_date_formats(pol: PasswordPolicy, form: str) -> None:
    got = codes(check_password(pol, f"MatKhau${form}", **PERSON))
    assert got == expect(pol.forbid_birth_date, "contains_birth_date")


@pytest.mark.parametrize("form", ["12051990", "12/05/1990", "1990-05-12", "120590", "12.5.1990"])
def test_nb_8_2b_birth_date(form: str) -> None:
    got = codes(check_password(policy("ninh-binh"), f"Mk${form}x", **PERSON))
    assert got == ["contains_birth_date"]


def test_nb_8_2b_birth_date_inside_longer_digit_run() -> None:
    got = codes(check_password(policy("ninh-binh"), "Mk$9120519907x", **PERSON))
    assert got == ["contains_birth_date"]


def test_nb_8_2b_birth_year_alone_allowed() -> None:
    # Reading: the year alone is not the date of birth.
    assert check_password(policy("ninh-binh"), "MatKhau$1990", **PERSON) == []
    assert check_password(policy("ninh-binh"), "MatKhau$1205", **PERSON) == []


def test_nb_8_2b_other_date_allowed() -> None:
    assert check_password(policy("ninh-binh"), "MatKhau$13051990", **PERSON) == []


def test_nb_8_2b_digits_split_by_letters_are_not_one_date() -> None:
    assert check_password(policy("ninh-binh"), "Mk$12a05b1990", **PERSON) == []


def test_nb_8_2b_single_digit_day_and_month() -> None:
    pol = policy("ninh-binh")
    person: Person = {"birth_date": dt.date(1985, 1, 7)}
    for form in ("07011985", "7/1/1985", "1985-01-07", "070185", "711985"):
        assert codes(check_password(pol, f"MatKhau${form}", **person)) == [
            "contains_birth_date"], form


def test_qn_8_1_birth_date_not_regulated() -> None:
    assert check_password(policy("quang-nam"), "MatKhau$12051990", **PERSON) == []


def test_no_birth_date_no_birth_rule(pol: PasswordPolicy) -> None:
    assert check_password(pol, "MatKhau$12051990") == []
