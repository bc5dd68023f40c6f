"""Agency account names: NB-5.1/5.2, KH-3.2a/b, NT-4.1a–f; person_agency_abbr."""

from __future__ import annotations

import pytest

from congvu.accounts.naming import (
    AgencyNode,
    NamingError,
    agency_local_part,
    person_agency_abbr,
)

from . import profile


def node(abbr: str, kind: str, account: str | None = None,
         parent: AgencyNode | None = None) -> AgencyNode:
    return AgencyNode(abbr=abbr, kind=kind, account_name=account or abbr, parent=parent)


SKHCN = node("skhcn", "province-dept")


def test_nb_5_1_seed_example_skhcn() -> None:
    assert agency_local_part(profile("ninh-binh"), "skhcn", "province-dept", None) == (
        "skhcn", "NB-5.1")


def test_nb_5_2_seed_example_ttcdstt_skhcn() -> None:
    assert agency_local_part(profile("ninh-binh"), "ttcdstt", "unit", SKHCN) == (
        "ttcdstt.skhcn", "NB-5.2")


def test_nb_5_2_nested_unit_uses_the_parent_account_name() -> None:
    tt = node("ttcdstt", "unit", "ttcdstt.skhcn", SKHCN)
    assert agency_local_part(profile("ninh-binh"), "phc", "department", tt) == (
        "phc.ttcdstt.skhcn", "NB-5.2")


def test_kh_3_2a_seed_examples_stttt_and_cl() -> None:
    p = profile("khanh-hoa")
    assert agency_local_part(p, "stttt", "province-dept", None) == ("stttt", "KH-3.2a")
    assert agency_local_part(p, "CL", "district", None) == ("cl", "KH-3.2a")


def test_kh_3_2b_seed_example_pvhtt_cl() -> None:
    cl = node("cl", "district")
    assert agency_local_part(profile("khanh-hoa"), "pvhtt", "department", cl) == (
        "pvhtt_cl", "KH-3.2b")


@pytest.mark.parametrize(
    ("abbr", "kind", "parent", "expected"),
    [
        ("sotttt", "province-dept", None, ("sotttt", "NT-4.1a")),
        ("prtc", "district", None, ("ubnd_prtc", "NT-4.1b")),
        ("phuochai", "commune", node("np", "district", "ubnd_np"), ("ubnd_phuochai", "NT-4.1c")),
        ("vp", "department", node("sonv", "province-dept"), ("sonv_vp", "NT-4.1d")),
        ("ttcntttt", "unit", node("sotttt", "province-dept"), ("ttcntttt", "NT-4.1e")),
        ("vhtt", "department", node("ns", "district", "ubnd_ns"), ("vhtt_ns", "NT-4.1f")),
        ("ttpt", "unit", node("ns", "district", "ubnd_ns"), ("ttpt_ns", "NT-4.1f")),
    ],
)
def test_nt_4_1_seed_examples(
    abbr: str, kind: str, parent: AgencyNode | None, expected: tuple[str, str]
) -> None:
    assert agency_local_part(profile("ninh-thuan"), abbr, kind, parent) == expected


def test_nt_4_1c_commune_name_is_folded() -> None:
    p = profile("ninh-thuan")
    assert agency_local_part(p, "PhướcHải", "commune", None) == ("ubnd_phuochai", "NT-4.1c")
    with pytest.raises(NamingError) as err:  # written together, as NT-4.1c says
        agency_local_part(p, "Phước Hải", "commune", None)
    assert "' '" in err.value.message


def test_nt_4_1_department_under_a_department_is_an_error() -> None:
    vp = node("vp", "department", "sonv_vp", node("sonv", "province-dept"))
    with pytest.raises(NamingError) as err:
        agency_local_part(profile("ninh-thuan"), "to1", "department", vp)
    assert "NT-4.1" in err.value.message


def test_unknown_agency_kind_is_an_error() -> None:
    with pytest.raises(NamingError) as err:
        agency_local_part(profile("ninh-binh"), "x", "ministry", None)
    assert "ministry" in err.value.message


def test_agency_abbreviation_with_a_bad_character_is_an_error() -> None:
    with pytest.raises(NamingError) as err:
        agency_local_part(profile("ninh-binh"), "KH&CN", "province-dept", None)
    assert "'&'" in err.value.message
    assert "NB-5.1" in err.value.message


def test_agency_account_name_too_long() -> None:
    p = profile("ninh-binh", max_local_part=8)
    with pytest.raises(NamingError) as err:
        agency_local_part(p, "ttcdstt", "unit", SKHCN)
    assert "NB-5.2" in err.value.message


# ------------------------------------------------------------ person_agency_abbr

TTCDSTT = node("ttcdstt", "unit", "ttcdstt.skhcn", SKHCN)
PHONG = node("vp", "department", "vp.skhcn", SKHCN)
PHONG_TT = node("kt", "department", "kt.ttcdstt.skhcn", TTCDSTT)


@pytest.mark.parametrize(
    ("where", "expected"),
    [(SKHCN, "skhcn"), (PHONG, "skhcn"), (TTCDSTT, "ttcdstt"), (PHONG_TT, "ttcdstt")],
)
def test_nb_5_3_person_agency_is_the_nearest_non_department(
    where: AgencyNode, expected: str
) -> None:
    assert person_agency_abbr(profile("ninh-binh"), where) == expected


def test_nb_5_3_person_in_a_department_gets_the_agency_address() -> None:
    from congvu.accounts.naming import suggest_person

    p = profile("ninh-binh")
    abbr = person_agency_abbr(p, PHONG)
    assert suggest_person(p, "Nguyễn Ngọc Thành", agency=abbr).local_part == "thanhnn.skhcn"


def test_nt_4_2b_person_agency_is_the_top_level_ancestor() -> None:
    p = profile("ninh-thuan")
    nh = node("nh", "district", "ubnd_nh")
    vhtt = node("vhtt", "department", "vhtt_nh", nh)
    xa = node("phuochai", "commune", "ubnd_phuochai", nh)
    assert person_agency_abbr(p, nh) == "nh"
    assert person_agency_abbr(p, vhtt) == "nh"
    assert person_agency_abbr(p, xa) == "nh"
    st = node("sotttt", "province-dept")
    tt = node("ttcntttt", "unit", "ttcntttt", st)
    assert person_agency_abbr(p, tt) == "sotttt"
