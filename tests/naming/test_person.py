"""Person rules: NB-5.3, KH-3.3a, QN-4.1 (and GL), NT-4.2a; name parsing (spec §2)."""

from __future__ import annotations

import unicodedata

import pytest

from congvu.accounts.naming import (
    NamingError,
    PersonName,
    base_local_part,
    normalise_abbr,
    parse_person_name,
    suggest_person,
)

from . import PROFILES, profile

# ----------------------------------------------------------------- seed examples


def test_nb_5_3_seed_example_thanhnn_skhcn() -> None:
    s = suggest_person(profile("ninh-binh"), "Nguyễn Ngọc Thành", agency="skhcn")
    assert s.local_part == "thanhnn.skhcn"
    assert s.address == "thanhnn.skhcn@ninhbinh.gov.vn"
    assert s.rule == "NB-5.3"
    assert s.candidates[0] == "thanhnn.skhcn"


def test_kh_3_3a_seed_example_ldphuong() -> None:
    s = suggest_person(profile("khanh-hoa"), "Lê Đức Phương")
    assert (s.local_part, s.address, s.rule) == (
        "ldphuong", "ldphuong@khanhhoa.gov.vn", "KH-3.3a")


def test_kh_3_3a_several_middle_names_take_each_initial() -> None:
    assert base_local_part(profile("khanh-hoa"), "Nguyễn Thị Thanh Vân") == "nttvan"


def test_qn_4_1_seed_example_namnv() -> None:
    s = suggest_person(profile("quang-nam"), "Nguyễn Văn Nam")
    assert (s.local_part, s.address, s.rule) == ("namnv", "namnv@quangnam.gov.vn", "QN-4.1")


def test_qn_4_1_seed_example_vanntt() -> None:
    assert suggest_person(profile("quang-nam"), "Nguyễn Thị Tú Vân").local_part == "vanntt"


def test_gl_uses_the_qn_4_1_format() -> None:
    s = suggest_person(profile("gia-lai"), "Nguyễn Văn Nam")
    assert s.local_part == "namnv"
    assert s.address == "namnv@gialai.gov.vn"


def test_nt_4_2a_seed_example_quoctrang() -> None:
    s = suggest_person(profile("ninh-thuan"), "Nguyễn Quốc Trạng", agency="sotttt")
    assert (s.local_part, s.address, s.rule) == (
        "quoctrang", "quoctrang@ninhthuan.gov.vn", "NT-4.2a")


def test_nt_4_2a_without_middle_name_is_the_given_name() -> None:
    assert base_local_part(profile("ninh-thuan"), "Lê Tuấn") == "tuan"


def test_nt_4_2a_several_middle_names_in_full() -> None:
    assert base_local_part(profile("ninh-thuan"), "Tôn Nữ Thị Thu Hà") == "nuthithuha"


@pytest.mark.parametrize(
    ("name", "expected"),
    [
        ("ninh-binh", "namnv.skhcn"),
        ("khanh-hoa", "nvnam"),
        ("quang-nam", "namnv"),
        ("ninh-thuan", "vannam"),
        ("gia-lai", "namnv"),
    ],
)
def test_person_rule_per_profile(name: str, expected: str) -> None:
    assert base_local_part(profile(name), "Nguyễn Văn Nam", agency="skhcn") == expected


# ------------------------------------------------------ input forms: NFD, case, space


@pytest.mark.parametrize("name", PROFILES)
def test_nfc_and_nfd_input_give_the_same_address(name: str) -> None:
    p = profile(name)
    full = "Nguyễn Ngọc Thành"
    nfd = unicodedata.normalize("NFD", full)
    assert nfd != full
    a = suggest_person(p, full, agency="skhcn")
    b = suggest_person(p, nfd, agency="skhcn")
    assert a == b


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize(
    "written",
    [
        "  nguyễn   NGỌC\tthành ",
        "NGUYỄN NGỌC THÀNH",
        "nguyễn\u00a0ngọc\u00a0thành",
        "Nguyễn Ngọc Thành\n",
    ],
)
def test_extra_spaces_and_any_case(name: str, written: str) -> None:
    p = profile(name)
    assert suggest_person(p, written, agency="SKHCN") == suggest_person(
        p, "Nguyễn Ngọc Thành", agency="skhcn")


def test_nb_5_3_agency_abbreviation_is_folded() -> None:
    assert base_local_part(profile("ninh-binh"), "Nguyễn Ngọc Thành", agency=" SKHCN ") == (
        "thanhnn.skhcn")


# ------------------------------------------------------------------- parsing


def test_parse_family_middles_given() -> None:
    p = parse_person_name("Nguyễn Thị Thanh Vân")
    assert p == PersonName("nguyen", ("thi", "thanh"), "van", "Nguyễn Thị Thanh Vân")
    assert p.initials == "ntt"
    assert p.middle_initials == "tt"


def test_parse_no_middle_name() -> None:
    p = parse_person_name("Lê Tuấn")
    assert (p.family, p.middles, p.given, p.initials) == ("le", (), "tuan", "l")


def test_parse_original_is_tidied() -> None:
    nfd = unicodedata.normalize("NFD", "  Lê   Văn\tTuấn ")
    assert parse_person_name(nfd).original == "Lê Văn Tuấn"


@pytest.mark.parametrize(
    ("written", "family", "middles", "given"),
    [
        ("Ksor H'Bia", "ksor", (), "hbia"),
        ("Ksor H’Bia", "ksor", (), "hbia"),
        ("Rơ Mah Tuấn", "ro", ("mah",), "tuan"),
        ("Y-Moan Niê", "ymoan", (), "nie"),
        ("Nguyễn - Văn Nam", "nguyen", ("van",), "nam"),
    ],
)
def test_parse_ethnic_minority_names_drop_apostrophes_and_hyphens(
    written: str, family: str, middles: tuple[str, ...], given: str
) -> None:
    p = parse_person_name(written)
    assert (p.family, p.middles, p.given) == (family, middles, given)


def test_ethnic_minority_name_addresses() -> None:
    assert base_local_part(profile("quang-nam"), "Ksor H'Bia") == "hbiak"
    assert base_local_part(profile("khanh-hoa"), "Rơ Mah Tuấn") == "rmtuan"


# -------------------------------------------------------------------- errors


@pytest.mark.parametrize("name", PROFILES)
@pytest.mark.parametrize("written", ["", "   ", "\t\u00a0\n"])
def test_empty_name_is_an_error(name: str, written: str) -> None:
    p = profile(name)
    with pytest.raises(NamingError) as err:
        suggest_person(p, written, agency="skhcn")
    assert p.naming.person_rule in err.value.message
    assert err.value.rule == p.naming.person_rule


@pytest.mark.parametrize(("written", "word"), [("Nguyễn Văn 2", "2"), ("Nguyễn Nam2", "Nam2"),
                                               ("123 456", "123")])
def test_digits_in_a_name_are_an_error(written: str, word: str) -> None:
    with pytest.raises(NamingError) as err:
        parse_person_name(written)
    assert f"'{word}'" in err.value.message


@pytest.mark.parametrize(
    ("written", "char"),
    [("Lê 中文", "中"), ("Иван Петров", "И"), ("Nguyễn 😀 Nam", "😀"),
     ("Nguyễn V. Nam", "."), ("Nguyễn, Nam", ",")],
)
def test_unconvertible_character_is_named(written: str, char: str) -> None:
    with pytest.raises(NamingError) as err:
        parse_person_name(written, rule="QN-4.1")
    assert f"'{char}'" in err.value.message
    assert f"U+{ord(char):04X}" in err.value.message
    assert "QN-4.1" in err.value.message


@pytest.mark.parametrize("name", PROFILES)
def test_single_word_is_an_error(name: str) -> None:
    p = profile(name)
    with pytest.raises(NamingError) as err:
        suggest_person(p, "  Thành ", agency="skhcn")
    assert "Thành" in err.value.message
    assert p.naming.person_rule in err.value.message


def test_nb_5_3_without_agency_asks_for_agency() -> None:
    with pytest.raises(NamingError) as err:
        suggest_person(profile("ninh-binh"), "Nguyễn Ngọc Thành")
    assert "NB-5.3" in err.value.message
    assert "--agency" in err.value.message
    assert "thanhnn" in err.value.message
    assert err.value.rule == "NB-5.3"


def test_nb_5_3_blank_agency_counts_as_missing() -> None:
    with pytest.raises(NamingError, match="--agency"):
        suggest_person(profile("ninh-binh"), "Nguyễn Ngọc Thành", agency="  ")


@pytest.mark.parametrize("name", PROFILES)
def test_too_long_local_part_is_an_error(name: str) -> None:
    p = profile(name, max_local_part=12)
    with pytest.raises(NamingError) as err:
        suggest_person(p, "Nguyễn Văn Abcdefghijklmnop", agency="skhcn")
    assert "12" in err.value.message
    assert p.naming.person_rule in err.value.message


def test_nt_4_2a_very_long_name_exceeds_the_default_limit() -> None:
    p = profile("ninh-thuan")
    name = "Nguyễn " + " ".join(["Abcdefghij"] * 7)
    with pytest.raises(NamingError, match=str(p.naming.max_local_part)):
        suggest_person(p, name)


# ---------------------------------------------------------- agency abbreviations


@pytest.mark.parametrize(("abbr", "expected"), [("skhcn", "skhcn"), (" SKHCN ", "skhcn"),
                                                ("Sở", "so"), ("ubnd2", "ubnd2")])
def test_normalise_abbr(abbr: str, expected: str) -> None:
    assert normalise_abbr(abbr) == expected


@pytest.mark.parametrize(("abbr", "char"), [("KH&CN", "&"), ("s khcn", " "), ("a.b", "."),
                                            ("a_b", "_"), ("中", "中")])
def test_normalise_abbr_names_the_bad_character(abbr: str, char: str) -> None:
    with pytest.raises(NamingError) as err:
        normalise_abbr(abbr)
    assert f"'{char}'" in err.value.message


def test_normalise_abbr_empty() -> None:
    with pytest.raises(NamingError):
        normalise_abbr("  ")


def test_nb_5_3_bad_agency_abbreviation_is_an_error() -> None:
    with pytest.raises(NamingError) as err:
        suggest_person(profile("ninh-binh"), "Nguyễn Ngọc Thành", agency="KH&CN")
    assert "'&'" in err.value.message


def test_suggestion_to_json() -> None:
    s = suggest_person(profile("quang-nam"), "Nguyễn Văn Nam", taken=["namnv"])
    assert s.to_json() == {
        "local_part": "namnv1",
        "address": "namnv1@quangnam.gov.vn",
        "rule": "QN-4.2",
        "candidates": list(s.candidates),
    }
    assert s.to_json()["candidates"][0] == "namnv1"
