"""Mailbox-check monitoring in the console (NB-9.2, KH-10): per account of the actor's
agencies, the checks of each working day, days below the profile's minimum flagged,
agency mailboxes apart from personal ones, as a page and a CSV file; a province whose
profile sets no minimum says so; nobody sees another agency's mailboxes."""

from __future__ import annotations

import csv
import io
import re
from collections.abc import Callable
from typing import Any

import pytest
from django.test import Client

from congvu import clock
from congvu.accounts.actions import do_create_agency_mailbox
from congvu.accounts.models import Account
from congvu.mail.actions import do_record_auth_success
from congvu.profiles import Profile
from tests.conftest import at
from tests.console.conftest import csrf, logged_in
from tests.factories import OPERATOR, account, agency, grant

pytestmark = pytest.mark.django_db

URL = "/console/monitoring/"
#: A Wednesday; the default period is Thu 5, Fri 6, Mon 9, Tue 10 and today.
TODAY = at("2026-03-11T10:00")
DAYS = ["2026-03-05", "2026-03-06", "2026-03-09", "2026-03-10", "2026-03-11"]
LONG_AGO = at("2025-12-01T08:00")


@pytest.fixture(autouse=True)
def _today(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(clock, "now", lambda: TODAY)


def checked(acct: Account, p: Profile, day: str, times: int) -> None:
    """``times`` IMAP sign-ins on ``day``, an hour apart (each one a check)."""
    for hour in range(times):
        assert do_record_auth_success(address=acct.address, now=at(f"{day}T{8 + hour:02d}:00"),
                                      protocol="imap", profile=p)


@pytest.fixture
def kh(use_profile: Callable[[str], Profile]) -> dict[str, Any]:
    """Khánh Hòa (KH-10: agency ≥ 3, personal ≥ 2 per working day)."""
    p = use_profile("khanh-hoa")
    agency(p, "stttt", "Sở Thông tin và Truyền thông", now=LONG_AGO)
    agency(p, "ttcntt", "Trung tâm CNTT", kind="unit", parent="stttt", now=LONG_AGO)
    agency(p, "stc", "Sở Tài chính", now=LONG_AGO)
    box, _ = do_create_agency_mailbox(actor=OPERATOR, profile=p, agency_ref="stttt",
                                      now=LONG_AGO)
    other_box, _ = do_create_agency_mailbox(actor=OPERATOR, profile=p, agency_ref="stc",
                                            now=LONG_AGO)
    diligent, _ = account(p, "stttt", "Lê Đức Phương", LONG_AGO)
    idle, _ = account(p, "stttt", "Trần Văn Bình", LONG_AGO)
    unit, _ = account(p, "ttcntt", "Phạm Thị Hoa", LONG_AGO)
    newcomer, _ = account(p, "stttt", "Võ Văn Mới", at("2026-03-08T09:00"))
    foreign, _ = account(p, "stc", "Đặng Thị Thu", LONG_AGO)
    it, _ = account(p, "stttt", "Nguyễn Văn An", LONG_AGO)
    grant(p, it.address, "agency-it", "stttt", LONG_AGO)
    clerk, _ = account(p, "stc", "Hồ Thị Văn", LONG_AGO)
    grant(p, clerk.address, "clerk", "stc", LONG_AGO)
    for day in DAYS:
        checked(box, p, day, 1 if day == "2026-03-09" else 3)
        checked(diligent, p, day, 2)
        checked(other_box, p, day, 1)
        checked(foreign, p, day, 1)
    checked(unit, p, "2026-03-10", 1)
    return {"p": p, "box": box, "other_box": other_box, "diligent": diligent, "idle": idle,
            "unit": unit, "newcomer": newcomer, "foreign": foreign, "it": it, "clerk": clerk}


def _row(html: str, acct: Account) -> str:
    found = re.search(rf'<tr id="checks-{acct.pk}"[^>]*>(.*?)</tr>', html, re.S)
    return found.group(1) if found else ""


def _cells(html: str, acct: Account) -> list[str]:
    return [re.sub(r"<[^>]+>", "", c).strip()
            for c in re.findall(r'<td class="num[^"]*">(.*?)</td>', _row(html, acct), re.S)]


def test_kh_10_an_agency_contact_sees_their_mailboxes_flagged_below_the_minimum(
        kh: Any) -> None:
    resp = logged_in(kh["it"]).get(URL)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Hộp thư cơ quan: ít nhất 3 lần kiểm tra mỗi ngày làm việc (KH-10.1)" in html
    assert "Hộp thư cá nhân: ít nhất 2 lần kiểm tra mỗi ngày làm việc (KH-10.2)" in html
    agency_part, personal_part = html.split('id="personal-checks"')
    assert kh["box"].address in agency_part and kh["box"].address not in personal_part
    # Thu 5 … Tue 10 are over; today (Wed 11) counts so far and is never flagged.
    assert _cells(html, kh["box"]) == ["3", "3", "1 chưa đạt", "3", "3 đến lúc này", "1"]
    assert _cells(html, kh["diligent"]) == ["2", "2", "2", "2", "2 đến lúc này", "0"]
    assert _cells(html, kh["idle"]) == ["0 chưa đạt"] * 4 + ["0 đến lúc này", "4"]
    # A unit's staff belong to the agency's subtree.
    assert _cells(html, kh["unit"])[3] == "1 chưa đạt"
    # A mailbox created on Sunday 8 is expected from Monday 9 only.
    assert _cells(html, kh["newcomer"]) == ["0", "0", "0 chưa đạt", "0 chưa đạt",
                                            "0 đến lúc này", "2"]
    assert "1 trên 1 hộp thư" in agency_part
    assert "T5 05/03" in html and "T4 11/03" in html and "hôm nay" in html
    for secret in (kh["other_box"].address, kh["foreign"].address, "Đặng Thị Thu"):
        assert secret not in html
    assert "<caption" in html and '<th scope="col"' in html and ' style="' not in html


def test_only_the_mailboxes_below_the_minimum_most_days_first(kh: Any) -> None:
    html = logged_in(kh["it"]).get(URL, {"below": "1"}).content.decode()
    personal = html.split('id="personal-checks"')[1]
    order = [int(n) for n in re.findall(r'<tr id="checks-(\d+)"', personal)]
    below = [int(_cells(personal, Account(pk=n))[-1]) for n in order]
    assert below == sorted(below, reverse=True) and below[0] == 4 and 0 not in below
    assert kh["idle"].pk in order[:2] and kh["diligent"].pk not in order
    assert set(order) >= {kh["idle"].pk, kh["newcomer"].pk, kh["unit"].pk}
    assert kh["box"].address in html


def test_a_chosen_period_and_a_unit_of_the_agency(kh: Any) -> None:
    c = logged_in(kh["it"])
    html = c.get(URL, {"start": "02/03/2026", "end": "2026-03-06"}).content.decode()
    assert "Từ 02/03/2026 đến 06/03/2026: 5 ngày làm việc." in html
    assert "T2 02/03" in html and "T4 11/03" not in html
    assert _cells(html, kh["diligent"]) == ["0 chưa đạt", "0 chưa đạt", "0 chưa đạt", "2", "2",
                                            "3"]
    unit = c.get(URL, {"agency": "ttcntt_stttt"}).content.decode()
    assert kh["unit"].address in unit and kh["idle"].address not in unit


@pytest.mark.parametrize(("query", "field", "words"), [
    ({"start": "2026-03-10", "end": "2026-03-05"}, "end",
     "Đến ngày: Ngày cuối (05/03/2026) trước ngày đầu"),
    ({"start": "2026-03-10", "end": "2026-03-12"}, "end", "muộn nhất là hôm nay"),
    ({"start": "2026-01-01", "end": "2026-03-10"}, "start", "Từ ngày: Khoảng thời gian dài"),
    ({"start": "mùng 5", "end": ""}, "start", "Từ ngày: không phải là ngày"),
])
def test_a_wrong_period_is_explained_beside_its_field(kh: Any, query: dict[str, str],
                                                      field: str, words: str) -> None:
    resp = logged_in(kh["it"]).get(URL, query)
    assert resp.status_code == 400
    html = resp.content.decode()
    error = re.search(rf'<p class="field-error" id="id_{field}_error">(.*?)</p>', html, re.S)
    assert error and words in error.group(1)
    assert kh["box"].address not in html  # no table from a period that was not understood


def _csv_rows(content: bytes) -> list[list[str]]:
    text = content.decode("utf-8")
    assert text.startswith("\ufeff")
    return list(csv.reader(io.StringIO(text.lstrip("\ufeff"))))


def test_the_csv_file_has_every_row_and_the_rule(kh: Any) -> None:
    c = logged_in(kh["it"])
    page = c.get(URL, {"start": "2026-03-05", "end": "2026-03-11"}).content.decode()
    form = re.search(r'<form method="post" action="/console/monitoring/csv/".*?</form>', page,
                     re.S).group(0)  # type: ignore[union-attr]
    fields = dict(re.findall(r'name="([^"]+)" value="([^"]*)"', form))
    assert fields["start"] == "2026-03-05" and fields["end"] == "2026-03-11"
    resp = c.post("/console/monitoring/csv/", fields)
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    assert "kiem-tra-hop-thu_2026-03-05_2026-03-11.csv" in resp["Content-Disposition"]
    rows = _csv_rows(resp.content)
    assert rows[0][:4] == ["Loại hộp thư", "Địa chỉ", "Người sử dụng hoặc cơ quan", "Cơ quan"]
    assert rows[0][4:9] == ["05/03/2026", "06/03/2026", "09/03/2026", "10/03/2026",
                            "11/03/2026"]
    by_address = {r[1]: r for r in rows[1:]}
    assert by_address[kh["box"].address] == [
        "cơ quan", kh["box"].address, "Sở Thông tin và Truyền thông", "stttt",
        "3", "3", "1", "3", "3", "1", "3", "KH-10.1"]
    assert by_address[kh["idle"].address][-3:] == ["4", "2", "KH-10.2"]
    assert by_address[kh["unit"].address][3] == "ttcntt_stttt"
    text = resp.content.decode()
    assert kh["foreign"].address not in text and kh["other_box"].address not in text
    assert c.get("/console/monitoring/csv/").status_code == 405


def test_a_large_file_is_written_by_the_tasks_worker_with_the_owners_rights(
        kh: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    from congvu.console.pages import monitoring
    from congvu.jobs.actions import run_pending

    monkeypatch.setattr(monitoring, "DIRECT_ROWS", 2)
    c = logged_in(kh["it"])
    page = c.get(URL).content.decode()
    resp = c.post("/console/monitoring/csv/", {"csrfmiddlewaretoken": csrf(page)})
    assert resp.status_code == 302 and resp["Location"].startswith("/console/jobs/")
    job_page = resp["Location"]
    assert run_pending() == 1
    html = c.get(job_page).content.decode()
    assert "Số lần kiểm tra của 6 hộp thư, từ 05/03/2026 đến 11/03/2026" in html
    download = c.get(job_page + "download/")
    rows = _csv_rows(b"".join(download.streaming_content) if download.streaming
                     else download.content)
    assert {r[1] for r in rows[1:]} == {a.address for a in (
        kh["box"], kh["diligent"], kh["idle"], kh["unit"], kh["newcomer"], kh["it"])}
    # Someone else cannot fetch it.
    assert logged_in(kh["clerk"]).get(job_page + "download/").status_code == 403


def test_an_operator_sees_every_agency_and_filters_one(kh: Any) -> None:
    op, _ = account(kh["p"], "stttt", "Quản Trị Viên", LONG_AGO)
    Account.objects.filter(pk=op.pk).update(is_operator=True)
    op.refresh_from_db()
    c = logged_in(op)
    html = c.get(URL).content.decode()
    assert kh["foreign"].address in html and kh["box"].address in html
    assert '<input type="text" name="agency"' in html
    only = c.get(URL, {"agency": "stc"}).content.decode()
    assert kh["foreign"].address in only and kh["box"].address not in only


def test_a_clerk_sees_their_own_agency_only(kh: Any) -> None:
    html = logged_in(kh["clerk"]).get(URL).content.decode()
    assert kh["other_box"].address in html and kh["foreign"].address in html
    assert kh["box"].address not in html and kh["idle"].address not in html


def test_a_province_without_the_rule_says_so(world: Any) -> None:
    """Quảng Nam's regulation sets no minimum: counts for information, nothing flagged."""
    html = logged_in(world["it"][0]).get(URL).content.decode()
    assert "Quy định của Quảng Nam không đặt số lần kiểm tra hộp thư tối thiểu" in html
    assert "quy định của Quảng Nam không đặt mức tối thiểu" in html
    assert '<strong class="flag">' not in html and 'name="below"' not in html


def test_nb_9_2_only_agency_mailboxes_have_a_minimum(
        use_profile: Callable[[str], Profile]) -> None:
    p = use_profile("ninh-binh")
    agency(p, "skhcn", "Sở Khoa học và Công nghệ", now=LONG_AGO)
    box, _ = do_create_agency_mailbox(actor=OPERATOR, profile=p, agency_ref="skhcn",
                                      now=LONG_AGO)
    person, _ = account(p, "skhcn", "Nguyễn Ngọc Thành", LONG_AGO)
    grant(p, person.address, "agency-it", "skhcn", LONG_AGO)
    html = logged_in(person).get(URL).content.decode()
    assert "ít nhất 2 lần kiểm tra mỗi ngày làm việc (NB-9.2)" in html
    assert "Hộp thư cá nhân: quy định của Ninh Bình không đặt mức tối thiểu" in html
    assert _cells(html, box)[0] == "0 chưa đạt" and _cells(html, person)[0] == "0"


# --- authorisation ------------------------------------------------------------------------


def test_another_agency_by_url_is_refused_without_its_data(kh: Any) -> None:
    c = logged_in(kh["it"])
    page = c.get(URL).content.decode()
    for resp in (c.get(URL, {"agency": "stc"}),
                 c.post("/console/monitoring/csv/", {"csrfmiddlewaretoken": csrf(page),
                                                     "agency": "stc"})):
        assert resp.status_code == 403
        body = resp.content.decode()
        assert kh["foreign"].address not in body and kh["other_box"].address not in body
        assert "Đặng Thị Thu" not in body
    clerk = logged_in(kh["clerk"])
    assert clerk.get(URL, {"agency": "stttt"}).status_code == 403
    assert clerk.get(URL, {"agency": "ttcntt_stttt", "below": "1"}).status_code == 403


def test_civil_servants_and_anonymous_visitors_are_refused(kh: Any) -> None:
    servant = logged_in(kh["idle"])
    for url in (URL, URL + "?agency=stc", URL + "?start=2026-13-01"):
        resp = servant.get(url)
        assert resp.status_code == 403
        assert kh["box"].address not in resp.content.decode()
        anon = Client().get(url)
        assert anon.status_code == 302 and anon["Location"].startswith("/sso/login/")
    page = servant.get("/console/").content.decode()
    for data in ({}, {"agency": "stttt"}, {"start": "2026-13-01"}):
        resp = servant.post("/console/monitoring/csv/",
                            {"csrfmiddlewaretoken": csrf(page), **data})
        assert resp.status_code == 403 and kh["box"].address not in resp.content.decode()
        anon = Client().post("/console/monitoring/csv/", data)
        assert anon.status_code == 302 and anon["Location"].startswith("/sso/login/")


def test_the_navigation_links_here_for_agency_people(kh: Any) -> None:
    html = logged_in(kh["it"]).get("/console/").content.decode()
    assert 'href="/console/monitoring/"' in html
