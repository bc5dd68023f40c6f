"""A form still being filled in (the console's filing pages): the agencies an actor may
file for, and the problems a form would meet, with filing's authorisation and nothing
written."""

from __future__ import annotations

import pytest
from django.utils import translation

from congvu.actors import Actor
from congvu.audit.models import AuditEvent
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.requests.drafts import check_filing, filing_agencies
from congvu.requests.filing import PersonRow, RequestForm
from congvu.requests.models import RequestItem, ServiceRequest
from tests.conftest import at, profile
from tests.factories import OPERATOR, agency, contact

pytestmark = pytest.mark.django_db
NOW = at("2026-03-02T09:00")


@pytest.fixture(autouse=True)
def _english():
    with translation.override("en"):
        yield


@pytest.fixture
def kh():
    p = profile("khanh-hoa")
    agency(p, "ttr", "Thanh tra tỉnh")
    agency(p, "pnv3", "Phòng Nghiệp vụ 3", kind="department", parent="ttr")
    agency(p, "stc", "Sở Tài chính")
    return p


def _counts() -> tuple[int, int, int]:
    return (ServiceRequest.objects.count(), RequestItem.objects.count(),
            AuditEvent.objects.filter(action__startswith="request.").count())


def test_filing_agencies_are_the_actors_own_subtree(kh) -> None:
    _acct, it = contact(kh, "ttr", "Lê Đức Phương")
    assert [a.account_name for a in filing_agencies(it) or []] == ["pnv3_ttr", "ttr"]
    _acct, clerk = contact(kh, "stc", "Hồ Thị Văn", role="clerk")
    assert [a.account_name for a in filing_agencies(clerk) or []] == ["stc"]
    assert filing_agencies(OPERATOR) is None  # any agency, typed
    with pytest.raises(Forbidden, match="may not file requests"):
        filing_agencies(Actor(kind="self", label="self:x@khanhhoa.gov.vn"))


def test_check_filing_lists_every_problem_and_writes_nothing(kh) -> None:
    _acct, it = contact(kh, "ttr", "Lê Đức Phương")
    before = _counts()
    problems = check_filing(actor=it, profile=kh, kind="new_mailboxes", agency_ref="ttr",
                            form=RequestForm(requester_phone="call me",
                                             persons=(PersonRow("Tám"),)), now=NOW)
    assert [p.field for p in problems] == ["requester_phone", "rows[1].full_name"]
    assert problems[1].rule == "KH-3.3a"
    assert check_filing(actor=it, profile=kh, kind="new_mailboxes", agency_ref="ttr",
                        form=RequestForm(persons=(PersonRow("Lê Văn Tư"),)), now=NOW) == []
    assert _counts() == before


def test_check_filing_refuses_another_agency_and_unknown_kinds(kh) -> None:
    _acct, it = contact(kh, "ttr", "Lê Đức Phương")
    form = RequestForm(persons=(PersonRow("Lê Văn Tư"),))
    with pytest.raises(Forbidden):
        check_filing(actor=it, profile=kh, kind="new_mailboxes", agency_ref="stc", form=form,
                     now=NOW)
    with pytest.raises(NotFound):
        check_filing(actor=it, profile=kh, kind="new_mailboxes", agency_ref="nowhere",
                     form=form, now=NOW)
    with pytest.raises(CongvuError, match="Unknown kind"):
        check_filing(actor=it, profile=kh, kind="bribe", agency_ref="ttr", form=form, now=NOW)
    with pytest.raises(Forbidden):
        check_filing(actor=Actor(kind="self", label="self:x"), profile=kh,
                     kind="new_mailboxes", agency_ref="ttr", form=form, now=NOW)
