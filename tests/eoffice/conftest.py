"""An agency with its people, through the real actions: Sở TT&TT Gia Lai (symbol STTTT)
with its Văn phòng (VP) and Phòng CNTT, and a second agency (Sở Tài chính) to check that
nobody reaches another agency's documents."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

import pytest

from congvu.accounts.models import Account
from congvu.accounts.roles import actor_for
from congvu.actors import Actor
from congvu.directory.models import Agency
from congvu.eoffice import actions
from congvu.eoffice.files import Upload
from congvu.eoffice.models import OfficeRole
from congvu.eoffice.params import EofficeParams
from congvu.profiles import Profile
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency

R = OfficeRole
NOW = at("2026-03-02T09:00")  # a Monday
PARAMS = EofficeParams()


def pdf(text: str = "Văn bản") -> Upload:
    body = b"%PDF-1.4\n1 0 obj <<>> endobj\n% " + text.encode() + b"\ntrailer <<>>\n%%EOF\n"
    return Upload(f"{text[:20] or 'vb'}.pdf", body)


def docx(text: str = "Dự thảo") -> Upload:
    return Upload("du-thao.docx", b"PK\x03\x04" + text.encode() + b"\x00" * 32)


@dataclass
class Person:
    account: Account
    actor: Actor

    @property
    def id(self) -> int:
        return self.account.pk


@dataclass
class Office:
    p: Profile
    agency: Agency
    vp: Agency
    cntt: Agency
    other: Agency
    people: dict[str, Person] = field(default_factory=dict)

    def __getattr__(self, name: str) -> Person:
        try:
            return self.__dict__["people"][name]
        except KeyError:
            raise AttributeError(name) from None


def _person(p: Profile, agency_ref: str, name: str,
            roles: list[tuple[str, Agency, Agency | None]]) -> Person:
    acct, _otp = account(p, agency_ref, name, dt.datetime(2026, 1, 5, 8, tzinfo=dt.UTC))
    for role, where, dept in roles:
        actions.do_grant_office_role(actor=OPERATOR, account_id=acct.pk, agency_id=where.pk,
                                     role=role, department_id=dept.pk if dept else None,
                                     now=NOW)
    acct.refresh_from_db()
    return Person(acct, actor_for(acct))


@pytest.fixture(autouse=True)
def _cheap_password_hashing(settings: Any) -> None:
    """Accounts are test data here: hash their one-time passwords cheaply."""
    settings.ARGON2 = {"memory_cost": 8, "time_cost": 1, "parallelism": 1}


def build_office(p: Profile) -> Office:
    """The agency, its departments and people (one per seat), through the real actions."""
    sotttt = agency(p, "sotttt", "Sở Thông tin và Truyền thông")
    vp = agency(p, "vp", "Văn phòng Sở", kind="department", parent="sotttt")
    cntt = agency(p, "cntt", "Phòng Công nghệ thông tin", kind="department", parent="sotttt")
    stc = agency(p, "stc", "Sở Tài chính")
    actions.do_set_agency_symbol(actor=OPERATOR, agency_id=sotttt.pk, symbol="STTTT", now=NOW)
    actions.do_set_agency_symbol(actor=OPERATOR, agency_id=vp.pk, symbol="VP", now=NOW)
    actions.do_set_agency_symbol(actor=OPERATOR, agency_id=cntt.pk, symbol="CNTT", now=NOW)
    o = Office(p, sotttt, vp, cntt, stc)
    o.people["director"] = _person(p, "sotttt", "Nguyễn Ngọc Hùng", [(R.DIRECTOR, sotttt, None)])
    o.people["deputy"] = _person(p, "sotttt", "Trần Văn Phó",
                                 [(R.DEPUTY_DIRECTOR, sotttt, None)])
    o.people["clerk"] = _person(p, "sotttt", "Lê Thị Thư", [(R.CLERK, sotttt, vp)])
    o.people["head"] = _person(p, "sotttt", "Phạm Văn Trưởng",
                               [(R.DEPARTMENT_HEAD, sotttt, cntt)])
    o.people["vp_head"] = _person(p, "sotttt", "Đỗ Thị Chánh",
                                  [(R.DEPARTMENT_HEAD, sotttt, vp)])
    o.people["spec"] = _person(p, "sotttt", "Võ Văn Chuyên", [(R.SPECIALIST, sotttt, cntt)])
    o.people["spec2"] = _person(p, "sotttt", "Hồ Thị Viên", [(R.SPECIALIST, sotttt, cntt)])
    o.people["vp_spec"] = _person(p, "sotttt", "Đinh Văn Vũ", [(R.SPECIALIST, sotttt, vp)])
    o.people["other_clerk"] = _person(p, "stc", "Mai Văn Tài", [(R.CLERK, stc, None)])
    o.people["other_director"] = _person(p, "stc", "Lý Thị Chính", [(R.DIRECTOR, stc, None)])
    return o


@pytest.fixture
def office(db: Any) -> Office:
    return build_office(profile("gia-lai"))


def form(**kwargs: Any) -> actions.IncomingForm:
    values: dict[str, Any] = {
        "issuer": "UBND tỉnh Gia Lai", "doc_type": "cong-van",
        "summary": "UBND tỉnh mời họp ngày 10/3/2026 về việc triển khai chuyển đổi số",
        "number_symbol": "123/UBND-KGVX", "document_date": dt.date(2026, 2, 27),
        "signer": "Nguyễn Văn A", "page_count": 2}
    values.update(kwargs)
    return actions.IncomingForm(**values)


def register(o: Office, when: dt.datetime = NOW, **kwargs: Any) -> Any:
    confirm = kwargs.pop("confirm_duplicate", False)
    return actions.do_register_incoming(actor=o.clerk.actor, profile=o.p,
                                        agency_id=o.agency.pk, form=form(**kwargs),
                                        upload=pdf(), now=when, params=PARAMS,
                                        confirm_duplicate=confirm)


def draft(o: Office, who: Person | None = None, when: dt.datetime = NOW, **kwargs: Any) -> Any:
    values: dict[str, Any] = {"doc_type": "quyet-dinh", "field": "Công nghệ thông tin",
                              "summary": "Quyết định ban hành Quy chế quản lý hệ thống "
                                         "Quản lý văn bản và điều hành"}
    values.update(kwargs)
    return actions.do_draft_outgoing(actor=(who or o.spec).actor, profile=o.p,
                                     agency_id=o.agency.pk, form=actions.DraftForm(**values),
                                     upload=docx(), now=when, params=PARAMS)


def approved(o: Office, when: dt.datetime = NOW, **kwargs: Any) -> Any:
    """A draft taken through both reviews to approval."""
    doc = draft(o, when=when, **kwargs)
    actions.do_submit_outgoing(actor=o.spec.actor, profile=o.p, outgoing_id=doc.pk, now=when,
                               params=PARAMS)
    actions.do_forward_draft(actor=o.head.actor, profile=o.p, outgoing_id=doc.pk, now=when,
                             params=PARAMS)
    return actions.do_approve_draft(actor=o.director.actor, outgoing_id=doc.pk, now=when)
