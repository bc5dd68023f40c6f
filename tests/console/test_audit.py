"""The audit log page (issue 6): operators filter by who, action, target, rule ID and
dates (dd/mm/yyyy, the profile's time zone), newest first a page at a time, read each
event's data, export the filtered events as CSV (the export is audited). Agency
contacts, civil servants and anonymous visitors read nothing of it."""

from __future__ import annotations

import csv
import datetime as dt
import io
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.db import connection
from django.test import Client
from django.test.utils import CaptureQueriesContext

from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.audit.models import AuditEvent
from congvu.audit.selectors import EventFilter, actor_labels, page_of, rule_value, search
from congvu.errors import Forbidden
from tests.console.conftest import logged_in

pytestmark = pytest.mark.django_db
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def local(text: str) -> dt.datetime:
    return dt.datetime.fromisoformat(text).replace(tzinfo=TZ)


@pytest.fixture
def log(world: Any) -> dict[str, Any]:
    """A few events of known times beside the world's own."""
    op = Actor(kind="operator", label="operator:quantri@quangnam.gov.vn")
    it = Actor(kind="agency-it", label="agency-it:anvt@quangnam.gov.vn")
    record(actor=op, action="account.suspend", at=local("2026-02-28T23:30"),
           target="hoalt@quangnam.gov.vn", rule="QN-7.2", reason="Không đăng nhập 3 tháng",
           data={"state": "suspended", "candidates": ["a", "b"], "leader": True})
    record(actor=op, action="account.restore", at=local("2026-03-01T00:10"),
           target="hoalt@quangnam.gov.vn", rule="NB-7.3")
    record(actor=it, action="mailbox.forward", at=local("2026-03-02T08:00"),
           target="namnv@quangnam.gov.vn", rule="NB-4.5", reason="=1+1",
           data={"to": "nam@stc.gov.vn"})
    return world


def test_filters_by_who_action_target_rule_and_local_dates(log: dict[str, Any]) -> None:
    c = logged_in(log["op"][0])
    page = c.get("/console/audit/").content.decode()
    assert "Nhật ký" in page and '<label for="id_since">' in page
    assert page.index("<code>mailbox.forward") < page.index("<code>account.restore")  # newest first

    page = c.get("/console/audit/", {"target": "hoalt", "rule": "qn-7.2"}).content.decode()
    assert "<code>account.suspend</code>" in page and "<code>account.restore</code>" not in page
    assert "Tạm khoá tài khoản" in page and "Không đăng nhập 3 tháng" in page
    assert "Các phương án" in page and "a, b" in page  # data readable, keys in words
    page = c.get("/console/audit/", {"actor": "anvt"}).content.decode()
    assert "<code>mailbox.forward</code>" in page and "<code>account.suspend</code>" not in page
    page = c.get("/console/audit/", {"action": "account."}).content.decode()
    assert "<code>account.restore</code>" in page and "<code>mailbox.forward</code>" not in page
    # 01/03/2026 in Asia/Ho_Chi_Minh: the restore at 00:10, not the suspension at 23:30
    # of 28/02 (16:30 UTC, the same UTC day as the restore).
    page = c.get("/console/audit/", {"since": "01/03/2026", "until": "01/03/2026",
                                     "target": "hoalt@quangnam.gov.vn"}).content.decode()
    assert "<code>account.restore</code>" in page and "<code>account.suspend</code>" not in page
    page = c.get("/console/audit/", {"until": "28/02/2026", "target": "hoalt"}).content.decode()
    assert "<code>account.suspend</code>" in page and "<code>account.restore</code>" not in page


def test_bad_dates_are_named_in_vietnamese_and_show_nothing(log: dict[str, Any]) -> None:
    c = logged_in(log["op"][0])
    resp = c.get("/console/audit/", {"since": "32/01/2026"})
    body = resp.content.decode()
    assert resp.status_code == 400
    assert "Từ ngày (dd/mm/yyyy): “32/01/2026” không phải là ngày" in body
    assert 'aria-invalid="true"' in body and "<code>account.suspend</code>" not in body
    body = c.get("/console/audit/", {"since": "02/03/2026", "until": "01/03/2026"}
                 ).content.decode()
    assert "Đến ngày (dd/mm/yyyy): Ngày cuối đứng trước ngày đầu (02/03/2026)" in body
    partial = c.get("/console/audit/", {"since": "x"}, HTTP_HX_REQUEST="true",
                    HTTP_HX_TARGET="audit")
    assert partial.status_code == 200 and partial.content.decode().startswith(
        '<div id="audit">')


def test_pages_go_by_keyset_newest_first(log: dict[str, Any]) -> None:
    op = Actor(kind="operator", label="operator:x")
    start = local("2026-04-01T08:00")
    for n in range(120):
        record(actor=op, action=f"test.{'ab'[n % 3 == 0]}", at=start + dt.timedelta(
            minutes=n // 2), target=f"t{n}")
    # A family: each action read through its own index range, the pages merged.
    qs = search(op, EventFilter(action="test."), "quangnam.gov.vn")
    assert qs.actions == ("test.a", "test.b")
    first = page_of(qs, size=50)
    assert [e.target for e in first.events][:2] == ["t119", "t118"] and first.newer is None
    second = page_of(qs, before=first.older, size=50)
    third = page_of(qs, before=second.older, size=50)
    seen = [e.target for p in (first, second, third) for e in p.events]
    assert seen == [f"t{n}" for n in range(119, -1, -1)] and third.older is None
    back = page_of(qs, after=second.newer, size=50)
    assert [e.pk for e in back.events] == [e.pk for e in first.events]
    c = logged_in(log["op"][0])
    page = c.get("/console/audit/", {"action": "test."}).content.decode()
    assert f"before={first.older}" in page and "action=test." in page
    with CaptureQueriesContext(connection) as queries:
        c.get("/console/audit/", {"action": "test.", "before": str(first.older)})
    assert not any("COUNT(" in q["sql"].upper() and "audit" in q["sql"] for q in
                   queries.captured_queries)


def test_csv_export_of_the_filtered_events_is_audited_and_safe(log: dict[str, Any]) -> None:
    c = logged_in(log["op"][0])
    resp = c.get("/console/audit/export.csv", {"target": "namnv", "rule": "NB-4.5"})
    text = b"".join(resp.streaming_content).decode("utf-8-sig")  # type: ignore[attr-defined]
    rows = list(csv.reader(io.StringIO(text)))
    assert rows[0][:3] == ["Số", "Thời điểm", "Người thực hiện"]
    assert len(rows) == 2 and rows[1][3] == "mailbox.forward"
    assert rows[1][1] == "02/03/2026 08:00:00"
    assert rows[1][6] == "'=1+1"  # a spreadsheet shows it, never computes it
    event = AuditEvent.objects.filter(action="audit.export").get()
    assert event.actor == f"operator:{log['op'][0].address}"
    assert event.data == {"filters": {"target": "namnv", "rule": "NB-4.5"}}
    assert c.get("/console/audit/export.csv", {"since": "hôm qua"}).status_code == 400


def test_selector_helpers() -> None:
    assert rule_value("nb-7.2đ") == "NB-7.2đ" and rule_value("QN-4.2") == "QN-4.2"
    assert "operator:quantri@x.gov.vn" in actor_labels("quantri", "x.gov.vn")
    assert actor_labels("cli:root", "x.gov.vn") == ["cli:root"]
    with pytest.raises(Forbidden):
        search(Actor(kind="agency-it", label="it", agency_ids=frozenset({1})),
               EventFilter(), "x.gov.vn")


@pytest.mark.parametrize("who", ["it", "servant"])
def test_agency_contacts_and_civil_servants_cannot_read_the_log(
        log: dict[str, Any], who: str) -> None:
    c = logged_in(log[who][0])
    before = AuditEvent.objects.count()
    for url, params in (("/console/audit/", {}), ("/console/audit/", {"target": "hoalt"}),
                        ("/console/audit/export.csv", {}),
                        ("/console/audit/", {"actor": log[who][0].address})):
        resp = c.get(url, params)
        assert resp.status_code == 403, url
        body = resp.content.decode()
        assert "hoalt@" not in body and "<code>account.suspend</code>" not in body
        assert "Không có quyền truy cập" in body
    assert AuditEvent.objects.count() == before


def test_anonymous_visitors_are_sent_to_sign_in(log: dict[str, Any]) -> None:
    for url in ("/console/audit/", "/console/audit/export.csv"):
        resp = Client().get(url, {"target": "hoalt"})
        assert resp.status_code == 302 and resp["Location"].startswith("/sso/login/")
