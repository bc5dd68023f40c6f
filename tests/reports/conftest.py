"""A small Quảng Nam province with a known history in the first half of 2026, so every
figure of the reports can be checked exactly (times are local, Asia/Ho_Chi_Minh)."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from congvu.accounts.actions import (
    do_create_agency_mailbox,
    do_create_operator,
    do_delete,
    do_record_login,
    do_restore,
    do_suspend,
)
from congvu.accounts.roles import actor_for
from congvu.profiles import Profile
from congvu.requests import actions as requests
from congvu.requests.filing import AddressRow, ChangeRow, PersonRow, RequestForm
from congvu.sso.actions import do_start_session
from tests.conftest import at
from tests.factories import OPERATOR, account, agency, grant

#: "Now" in every report test: a Saturday in the first half of 2026.
NOW = at("2026-06-20T10:00")


def _file(p: Profile, kind: str, ref: str, when: str, **form: Any) -> int:
    req = requests.do_file_request(actor=OPERATOR, profile=p, kind=kind, agency_ref=ref,
                                   now=at(when), form=RequestForm(requester_name="Văn thư",
                                                                  **form))
    return req.pk


@pytest.fixture
def province(use_profile: Callable[[str], Profile]) -> dict[str, Any]:
    p = use_profile("quang-nam")
    early = at("2025-10-01T08:00")
    agency(p, "sotttt", "Sở Thông tin và Truyền thông", now=early)
    agency(p, "ttcntt", "Trung tâm Công nghệ thông tin", kind="unit", parent="sotttt",
           now=early)
    agency(p, "stc", "Sở Tài chính", now=early)
    op, _otp = do_create_operator(actor=OPERATOR, profile=p, local_part="quantri", now=early)
    nam, _ = account(p, "sotttt", "Nguyễn Văn Nam", at("2025-11-01T08:00"))
    binh, _ = account(p, "sotttt", "Trần Thị Bình", at("2026-02-02T08:00"))
    cuong, _ = account(p, "ttcntt", "Lê Văn Cường", at("2026-03-03T08:00"))
    dung, _ = account(p, "stc", "Phạm Thị Dung", at("2026-01-15T08:00"))
    em, _ = account(p, "stc", "Võ Văn Em", at("2026-02-20T08:00"))
    box, _ = do_create_agency_mailbox(actor=OPERATOR, profile=p, agency_ref="stc",
                                      now=at("2026-01-10T08:00"))
    # Requests: on time, late, not yet due, overdue, cancelled, no SLA, and one outside.
    r1 = _file(p, "new_mailboxes", "sotttt", "2026-03-02T09:00",
               persons=(PersonRow("Đỗ Văn Phúc"),))
    requests.do_reject_request(actor=OPERATOR, request_id=r1, reason="Thiếu quyết định",
                               now=at("2026-03-04T09:00"))
    r2 = _file(p, "password_reissue", "stc", "2026-03-02T09:00",
               addresses=(AddressRow(dung.address),))
    requests.do_reject_request(actor=OPERATOR, request_id=r2, reason="Sai người ký",
                               now=at("2026-03-06T09:00"))
    _file(p, "new_mailboxes", "ttcntt", "2026-06-15T09:00", persons=(PersonRow("Hồ Thị Giang"),))
    _file(p, "new_mailboxes", "stc", "2026-06-01T09:00", persons=(PersonRow("Mai Văn Hải"),))
    r5 = _file(p, "deletion", "stc", "2026-04-01T09:00", addresses=(AddressRow(em.address),),
               reason="Nghỉ hưu", effective_date=at("2026-05-01").date())
    requests.do_cancel_request(actor=OPERATOR, request_id=r5, now=at("2026-04-02T09:00"))
    _file(p, "change", "sotttt", "2026-05-01T09:00",
          changes=(ChangeRow(nam.address, "1", "Phó Giám đốc"),))
    r7 = _file(p, "new_mailboxes", "sotttt", "2025-12-15T09:00",
               persons=(PersonRow("Lý Thị Kim"),))
    requests.do_reject_request(actor=OPERATOR, request_id=r7, reason="Trùng",
                               now=at("2026-01-05T09:00"))
    # Dung: suspended twice (restored in between); Em: deleted.
    do_suspend(actor=OPERATOR, profile=p, account=dung, now=at("2026-04-01T08:00"),
               rule="QN-7.2", reason="")
    do_restore(actor=OPERATOR, profile=p, account=dung, now=at("2026-04-10T08:00"))
    do_suspend(actor=OPERATOR, profile=p, account=dung, now=at("2026-05-05T08:00"),
               rule="QN-11.8", reason="Dùng cho việc riêng")
    do_delete(actor=OPERATOR, profile=p, account=em, now=at("2026-05-20T08:00"),
              rule="KH-4.4", reason="Nghỉ hưu")
    # Sign-ins: three through the SSO in March (two people), one in May.
    for who, when in ((nam, "2026-03-10T08:00"), (nam, "2026-03-20T08:00"),
                      (binh, "2026-03-15T08:00"), (nam, "2026-05-05T08:00")):
        do_start_session(account=who, session_key=f"k-{who.pk}-{when}", now=at(when))
    for who, when in ((nam, "2026-06-15T08:00"), (binh, "2026-04-01T08:00"),
                      (box, "2026-06-19T08:00")):
        do_record_login(account=who, now=at(when))
    grant(p, nam.address, "agency-it", "sotttt", early)
    nam.refresh_from_db()
    return {"p": p, "op": op, "nam": nam, "binh": binh, "cuong": cuong, "dung": dung,
            "em": em, "box": box, "operator": actor_for(op), "contact": actor_for(nam)}
