"""Collision policies: NB-5.4 / KH-3.3b ranked, QN-4.2 numbered, NT-4.2b fallbacks."""

from __future__ import annotations

import pytest

from congvu.accounts.naming import NamingError, normalise_taken, suggest_person

from . import PROFILES, profile

# ------------------------------------------------------------------ taken input


@pytest.mark.parametrize(
    "taken",
    [["namnv"], ["NAMNV"], [" namnv "], ["namnv@quangnam.gov.vn"], ["NamNV@QuangNam.gov.vn"]],
)
def test_taken_is_case_insensitive_and_accepts_addresses(taken: list[str]) -> None:
    assert suggest_person(profile("quang-nam"), "Nguyễn Văn Nam", taken=taken).local_part == (
        "namnv1")


def test_normalise_taken_strips_the_profile_domain() -> None:
    p = profile("ninh-binh")
    assert normalise_taken(p, ["Thanhnn.SKHCN@ninhbinh.gov.vn", "x", "", "y@hanam.gov.vn"]) == {
        "thanhnn.skhcn", "x", "y"}


@pytest.mark.parametrize("name", PROFILES)
def test_free_base_uses_the_person_rule_and_candidates_are_free(name: str) -> None:
    p = profile(name)
    s = suggest_person(p, "Lê Văn Tuấn", agency="nh")
    assert s.rule == p.naming.person_rule
    assert s.candidates[0] == s.local_part
    assert len(set(s.candidates)) == len(s.candidates)


@pytest.mark.parametrize("name", PROFILES)
def test_taken_base_uses_the_collision_rule(name: str) -> None:
    p = profile(name)
    base = suggest_person(p, "Lê Văn Tuấn", agency="nh").local_part
    s = suggest_person(p, "Lê Văn Tuấn", agency="nh", taken=[base])
    assert s.local_part != base
    assert s.rule == p.naming.collision_rule
    assert base not in s.candidates
    assert s.candidates[0] == s.local_part


# ------------------------------------------------------------------- QN-4.2


def test_qn_4_2_numbers_from_1() -> None:
    p = profile("quang-nam")
    assert suggest_person(p, "Nguyễn Thị Thanh Vân", taken={"vanntt"}).local_part == "vanntt1"
    s = suggest_person(p, "Nguyễn Thị Thanh Vân", taken={"vanntt", "vanntt1"})
    assert (s.local_part, s.rule) == ("vanntt2", "QN-4.2")
    assert s.candidates == ("vanntt2", "vanntt3", "vanntt4")


def test_qn_4_2_skips_taken_numbers() -> None:
    p = profile("quang-nam")
    s = suggest_person(p, "Nguyễn Văn Nam", taken={"namnv", "namnv1", "namnv3"})
    assert s.local_part == "namnv2"
    assert s.candidates == ("namnv2", "namnv4", "namnv5")


def test_qn_4_2_leader_keeps_the_free_base() -> None:
    p = profile("quang-nam")
    s = suggest_person(p, "Nguyễn Thị Tú Vân", leader=True)
    assert (s.local_part, s.rule) == ("vanntt", "QN-4.1")


def test_qn_4_2_leader_cannot_take_an_existing_address() -> None:
    # Reading: an address already issued is never taken away; the leader is numbered.
    p = profile("quang-nam")
    s = suggest_person(p, "Nguyễn Thị Tú Vân", leader=True, taken={"vanntt"})
    assert s.local_part == "vanntt1"


def test_qn_4_2_number_start_is_a_setting() -> None:
    p = profile("quang-nam", number_start=7)
    assert suggest_person(p, "Nguyễn Văn Nam", taken={"namnv"}).local_part == "namnv7"


def test_qn_4_2_no_free_number_within_the_limit() -> None:
    p = profile("quang-nam", max_local_part=6)
    taken = {"namnv"} | {f"namnv{n}" for n in range(1, 10)}
    with pytest.raises(NamingError) as err:
        suggest_person(p, "Nguyễn Văn Nam", taken=taken)
    assert "QN-4.2" in err.value.message
    assert err.value.rule == "QN-4.2"


# ------------------------------------------------------------------- NT-4.2b


def test_nt_4_2b_seed_example_tuanlv2_nh() -> None:
    p = profile("ninh-thuan")
    s = suggest_person(p, "Lê Văn Tuấn", agency="nh", taken={"vantuan", "tuanlv", "tuanlv.nh"})
    assert (s.local_part, s.rule) == ("tuanlv2.nh", "NT-4.2b")
    assert s.address == "tuanlv2.nh@ninhthuan.gov.vn"
    assert s.candidates[:2] == ("tuanlv2.nh", "tuanlv3.nh")


@pytest.mark.parametrize(
    ("taken", "expected", "rule"),
    [
        (set(), "vantuan", "NT-4.2a"),
        ({"vantuan"}, "tuanlv", "NT-4.2b"),
        ({"vantuan", "tuanlv"}, "tuanlv.nh", "NT-4.2b"),
        ({"vantuan", "tuanlv", "tuanlv.nh", "tuanlv2.nh"}, "tuanlv3.nh", "NT-4.2b"),
    ],
)
def test_nt_4_2b_priority_order(taken: set[str], expected: str, rule: str) -> None:
    s = suggest_person(profile("ninh-thuan"), "Lê Văn Tuấn", agency="nh", taken=taken)
    assert (s.local_part, s.rule) == (expected, rule)


def test_nt_4_2b_candidates_follow_the_priority_order() -> None:
    s = suggest_person(profile("ninh-thuan"), "Lê Văn Tuấn", agency="nh")
    assert s.candidates == ("vantuan", "tuanlv", "tuanlv.nh")


def test_nt_4_2b_needs_agency_only_when_it_is_reached() -> None:
    p = profile("ninh-thuan")
    assert suggest_person(p, "Lê Văn Tuấn", taken={"vantuan"}).local_part == "tuanlv"
    with pytest.raises(NamingError) as err:
        suggest_person(p, "Lê Văn Tuấn", taken={"vantuan", "tuanlv"})
    assert "NT-4.2b" in err.value.message
    assert "--agency" in err.value.message
    assert err.value.rule == "NT-4.2b"


def test_nt_4_2b_without_middle_name() -> None:
    p = profile("ninh-thuan")
    s = suggest_person(p, "Lê Tuấn", agency="nh", taken={"tuan", "tuanl"})
    assert s.local_part == "tuanl.nh"


# ------------------------------------------------------------- NB-5.4, KH-3.3b


def test_nb_5_4_ranked_candidates_keep_the_agency() -> None:
    p = profile("ninh-binh")
    s = suggest_person(p, "Nguyễn Ngọc Thành", agency="skhcn", taken={"thanhnn.skhcn"})
    assert s.rule == "NB-5.4"
    assert len(s.candidates) == 5
    assert s.candidates[0] == s.local_part
    assert all(c.endswith(".skhcn") for c in s.candidates)
    assert all("thanh" in c for c in s.candidates)
    assert "thanhnn.skhcn" not in s.candidates


def test_nb_5_4_ranked_shorter_first_without_digits_first() -> None:
    p = profile("ninh-binh")
    s = suggest_person(p, "Nguyễn Ngọc Thành", agency="skhcn", taken={"thanhnn.skhcn"})
    lengths = [len(c) for c in s.candidates]
    assert lengths == sorted(lengths)
    assert not any(ch.isdigit() for c in s.candidates for ch in c)


def test_kh_3_3b_ranked_order_then_agency_then_numbers() -> None:
    p = profile("khanh-hoa")
    shorter = {"ldphuong", "phuongld", "lephuong", "phuongle", "ducphuong", "phuongduc"}
    s = suggest_person(p, "Lê Đức Phương", agency="stttt", taken=shorter)
    assert s.rule == "KH-3.3b"
    assert s.candidates == (
        "phuongdle", "leducphuong", "ldphuong_stttt", "ldphuong2", "ldphuong3")


def test_kh_3_3b_agency_variant_only_with_an_agency() -> None:
    p = profile("khanh-hoa")
    everything = {"ldphuong", "phuongld", "lephuong", "phuongle", "ducphuong", "phuongduc",
                  "phuongdle", "leducphuong"}
    s = suggest_person(p, "Lê Đức Phương", taken=everything)
    assert s.candidates == ("ldphuong2", "ldphuong3", "ldphuong4", "ldphuong5", "ldphuong6")


def test_nb_5_4_numbered_variants_keep_the_agency() -> None:
    p = profile("ninh-binh")
    first = suggest_person(p, "Nguyễn Ngọc Thành", agency="skhcn", taken={"thanhnn.skhcn"})
    taken = {"thanhnn.skhcn"}
    s = first
    while not any(ch.isdigit() for ch in s.local_part):  # use up the named alternatives
        taken.add(s.local_part)
        s = suggest_person(p, "Nguyễn Ngọc Thành", agency="skhcn", taken=taken)
    assert len(taken) == 8  # the base and seven ranked alternatives
    assert (s.local_part, s.rule) == ("thanhnn2.skhcn", "NB-5.4")
    assert s.candidates[1] == "thanhnn3.skhcn"


def test_ranked_never_proposes_the_bare_given_name() -> None:
    p = profile("khanh-hoa")
    s = suggest_person(p, "Lê Phương", taken={"lphuong"})
    assert "phuong" not in s.candidates


@pytest.mark.parametrize("name", ["ninh-binh", "khanh-hoa"])
def test_ranked_candidates_are_free(name: str) -> None:
    p = profile(name)
    taken = {"thanhnn.skhcn", "nnthanh.skhcn", "nnthanh", "thanhnn", "ngocthanh"}
    s = suggest_person(p, "Nguyễn Ngọc Thành", agency="skhcn", taken=taken)
    assert not set(s.candidates) & taken
    assert len(s.candidates) == 5
