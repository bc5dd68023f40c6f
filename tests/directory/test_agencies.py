"""Agency account names per profile (NB-5.1/5.2, KH-3.2, NT-4.1 a–f) through ``org add``."""

from __future__ import annotations

import pytest

from congvu.accounts.models import ReservedName
from congvu.actors import Actor
from congvu.directory.actions import do_add_agency
from congvu.directory.models import Agency
from congvu.errors import CongvuError, Forbidden, NotFound
from tests.conftest import at, profile
from tests.factories import agency

pytestmark = pytest.mark.django_db


def test_nb_5_1_and_5_2_agency_and_subordinate_unit() -> None:
    p = profile("ninh-binh")
    assert agency(p, "skhcn", "Sở Khoa học và Công nghệ").account_name == "skhcn"
    unit = agency(p, "ttcdstt", "Trung tâm Chuyển đổi số và Truyền thông", parent="skhcn")
    assert (unit.account_name, unit.naming_rule) == ("ttcdstt.skhcn", "NB-5.2")


def test_kh_3_2_agency_and_subordinate() -> None:
    p = profile("khanh-hoa")
    assert agency(p, "stttt").account_name == "stttt"
    assert agency(p, "cl", "UBND huyện Cam Lâm", kind="district").account_name == "cl"
    assert agency(p, "pvhtt", "Phòng VH-TT", parent="cl", kind="department").account_name \
        == "pvhtt_cl"


@pytest.mark.parametrize(("abbr", "kind", "parent", "expected"), [
    ("sotttt", "province-dept", None, "sotttt"),            # NT-4.1a
    ("prtc", "district", None, "ubnd_prtc"),                 # NT-4.1b
    ("phuochai", "commune", "np", "ubnd_phuochai"),          # NT-4.1c
    ("vp", "department", "sonv", "sonv_vp"),                 # NT-4.1d
    ("ttcntttt", "unit", "sotttt", "ttcntttt"),              # NT-4.1e
    ("vhtt", "department", "ns", "vhtt_ns"),                 # NT-4.1f
])
def test_nt_4_1_agency_account_names(abbr: str, kind: str, parent: str | None,
                                     expected: str) -> None:
    p = profile("ninh-thuan")
    agency(p, "sotttt", kind="province-dept")
    agency(p, "sonv", kind="province-dept")
    agency(p, "np", "UBND huyện Ninh Phước", kind="district")
    agency(p, "ns", "UBND huyện Ninh Sơn", kind="district")
    if Agency.objects.filter(account_name=expected).exists():
        return  # sotttt itself
    assert agency(p, abbr, kind=kind, parent=parent).account_name == expected


def test_agency_name_is_reserved_and_duplicates_refused_without_a_row_written() -> None:
    p = profile("ninh-binh")
    agency(p, "skhcn")
    assert ReservedName.objects.filter(local_part="skhcn", kind="agency").exists()
    with pytest.raises(CongvuError, match=r"skhcn@ninhbinh\.gov\.vn"):
        agency(p, "skhcn", "again")
    assert Agency.objects.count() == 1


@pytest.mark.parametrize(("abbr", "kind", "parent", "error"), [
    ("s k", None, None, CongvuError),
    ("", None, None, CongvuError),
    ("vp", "department", None, CongvuError),
    ("vp", None, "nope", NotFound),
    ("vp", "ministry", None, CongvuError),
])
def test_bad_agency_input_is_a_clear_error(abbr: str, kind: str | None, parent: str | None,
                                           error: type[Exception]) -> None:
    with pytest.raises(error):
        agency(profile("ninh-binh"), abbr, "Tên", kind=kind, parent=parent)
    assert not Agency.objects.exists()


def test_agency_it_contact_cannot_add_units_to_another_agency() -> None:
    p = profile("ninh-binh")
    own = agency(p, "skhcn")
    agency(p, "sgd")
    contact = Actor(kind="agency-it", label="it:skhcn", agency_ids=frozenset({own.pk}))
    do_add_agency(actor=contact, profile=p, abbr="vp", name="Văn phòng", kind=None,
                  parent="skhcn", now=at("2026-01-05"))
    with pytest.raises(Forbidden):
        do_add_agency(actor=contact, profile=p, abbr="vp", name="Văn phòng", kind=None,
                      parent="sgd", now=at("2026-01-05"))
