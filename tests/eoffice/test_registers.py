"""Registers (sổ đăng ký văn bản đến / đi, Decree 30 Phụ lục IV columns) per agency and
year, with filters and keyset paging; classified rows masked for those who may not read
them; notices."""

from __future__ import annotations

import datetime as dt

import pytest

from congvu.eoffice import actions, selectors
from congvu.eoffice.actions import Recipient
from congvu.eoffice.models import Notice, OfficeRole
from congvu.eoffice.rules import AssignmentKind as K
from congvu.eoffice.selectors import RegisterFilters
from tests.conftest import at
from tests.eoffice.conftest import NOW, PARAMS, approved, register

pytestmark = pytest.mark.django_db


def test_nd30_phu_luc_iv_incoming_register_columns(office) -> None:
    doc = register(office, received_at=at("2026-02-27T15:00"), urgency="khan")
    actions.do_assign_incoming(actor=office.director.actor, profile=office.p,
                               document_id=doc.pk, now=NOW, params=PARAMS,
                               recipients=[Recipient(K.LEAD, department_id=office.cntt.pk),
                                           Recipient(K.COORDINATE, department_id=office.vp.pk)])
    assert selectors.INCOMING_COLUMNS == (
        "Ngày đến", "Số đến", "Tác giả", "Số, ký hiệu", "Ngày tháng",
        "Tên loại và trích yếu nội dung", "Đơn vị hoặc người nhận", "Ký nhận", "Ghi chú")
    (row,) = selectors.incoming_register(office.clerk.actor, NOW, agency_id=office.agency.pk,
                                         year=2026)
    assert row.columns()[:6] == (
        "27/02/2026", "01", "UBND tỉnh Gia Lai", "123/UBND-KGVX", "27/02/2026",
        "Công văn: UBND tỉnh mời họp ngày 10/3/2026 về việc triển khai chuyển đổi số")
    assert office.cntt.name in row.recipients and office.vp.name in row.recipients
    assert row.received_by == office.clerk.actor.label
    assert "Khẩn" in row.notes


def test_nd30_phu_luc_iv_outgoing_register_columns(office) -> None:
    doc = actions.do_number_outgoing(actor=office.clerk.actor, profile=office.p,
                                     outgoing_id=approved(office, signer="Nguyễn Ngọc Hùng",
                                                          copies=3).pk, now=NOW)
    actions.do_issue_outgoing(actor=office.clerk.actor, profile=office.p, outgoing_id=doc.pk,
                              units=[office.vp.pk], now=at("2026-03-03T08:00"), params=PARAMS)
    assert len(selectors.OUTGOING_COLUMNS) == 10
    (row,) = selectors.outgoing_register(office.director.actor, NOW, agency_id=office.agency.pk,
                                         year=2026)
    assert row.columns() == (
        "01/QĐ-STTTT", "02/03/2026",
        "Quyết định: Quyết định ban hành Quy chế quản lý hệ thống Quản lý văn bản và điều "
        "hành", "Nguyễn Ngọc Hùng", office.vp.name, office.cntt.name, "3", "03/03/2026", "",
        "")


def test_nd30_registers_filter_and_page(office) -> None:
    for i in range(5):
        register(office, number_symbol=f"{i}/TB-UBND", doc_type="thong-bao" if i % 2 else
                 "cong-van", received_at=at(f"2026-02-2{i + 3}T09:00"),
                 summary=f"Thông báo số {i} về lịch tiếp công dân tháng 3",
                 document_date=dt.date(2026, 2, 20))
    clerk = office.clerk.actor

    def numbers(**kwargs):
        rows = selectors.incoming_register(clerk, NOW, agency_id=office.agency.pk, year=2026,
                                           filters=RegisterFilters(**kwargs))
        return [r.number for r in rows]

    assert numbers() == [1, 2, 3, 4, 5]
    assert numbers(after=2, limit=2) == [3, 4]
    assert numbers(doc_type="TB") == [2, 4]
    assert numbers(date_from=dt.date(2026, 2, 24), date_to=dt.date(2026, 2, 25)) == [2, 3]
    assert numbers(text="so 3 ve") == [4]
    assert selectors.incoming_register(clerk, NOW, agency_id=office.agency.pk, year=2025) == []


def test_nd30_classified_rows_are_masked_for_a_delegated_clerk(office) -> None:
    register(office, confidentiality="mat", summary="Báo cáo tình hình an ninh mạng quý I")
    delegation = actions.do_request_delegation(
        actor=office.clerk.actor, agency_id=office.agency.pk, delegate_id=office.vp_spec.id,
        roles=[OfficeRole.CLERK], starts_at=at("2026-03-01T00:00"),
        ends_at=at("2026-03-10T00:00"), now=at("2026-03-01T08:00"))
    actions.do_approve_delegation(actor=office.director.actor, delegation_id=delegation.pk,
                                  now=at("2026-03-01T09:00"))
    actions.do_announce_delegation(actor=office.clerk.actor, delegation_id=delegation.pk,
                                   now=at("2026-03-01T10:00"))
    (full,) = selectors.incoming_register(office.clerk.actor, NOW,
                                          agency_id=office.agency.pk, year=2026)
    (masked,) = selectors.incoming_register(office.vp_spec.actor, NOW,
                                            agency_id=office.agency.pk, year=2026)
    assert "an ninh mạng" in full.type_and_summary
    assert masked.type_and_summary == "Công văn (Mật)"
    assert selectors.incoming_register(office.vp_spec.actor, NOW, agency_id=office.agency.pk,
                                       year=2026,
                                       filters=RegisterFilters(text="an ninh")) == []


def test_notices_inbox_and_marking_read(office) -> None:
    register(office)
    register(office, number_symbol="2/X")
    inbox = selectors.notices_for(office.director.actor, unread_only=True)
    assert len(inbox) == 2
    mine = [n.pk for n in inbox]
    theirs = Notice.objects.filter(recipient_id=office.deputy.id).values_list("pk", flat=True)
    assert actions.do_mark_notices_read(actor=office.director.actor,
                                        notice_ids=[*mine, *theirs], now=NOW) == 2
    assert selectors.notices_for(office.director.actor, unread_only=True) == []
    assert len(selectors.notices_for(office.deputy.actor, unread_only=True)) == 2
