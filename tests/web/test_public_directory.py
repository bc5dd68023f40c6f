"""The public directory per agency (NB-11.5, QN-13.4): no sign-in, for the agencies'
portals: the agency's address, its units' and its staff's (name, position, address)
and nothing else; CSV and JSON for programs; a bare variant that portals may frame."""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone
from django.utils.text import slugify

from congvu.accounts.actions import (
    do_create_account,
    do_create_agency_mailbox,
    do_delete,
    do_leave,
    do_suspend,
)
from congvu.accounts.models import Account
from congvu.directory.models import Agency
from tests.factories import OPERATOR, account, agency

pytestmark = pytest.mark.django_db


@pytest.fixture
def province(use_profile: Any) -> dict[str, Any]:
    p = use_profile("quang-nam")
    now = timezone.now() - dt.timedelta(days=30)
    agency(p, "stc", "Sở Tài chính", now=now)
    agency(p, "vp", "Văn phòng Sở", kind="department", parent="stc", now=now)
    agency(p, "ttdv", "Trung tâm Dịch vụ tài chính", kind="unit", parent="stc", now=now)
    agency(p, "snv", "Sở Nội vụ", now=now)
    box, _ = do_create_agency_mailbox(actor=OPERATOR, profile=p, agency_ref="stc", now=now)
    unit = Agency.objects.get(abbr="ttdv")
    unit_box, _ = do_create_agency_mailbox(actor=OPERATOR, profile=p,
                                           agency_ref=unit.account_name, now=now)
    head, _ = account(p, "stc", "Nguyễn Văn Hùng", now, position="Giám đốc", leader=True)
    clerk, _ = account(p, "stc", "Lê Thị Mai", now, position="Văn thư", department_ref="vp")
    tech, _ = account(p, unit.account_name, "Trần Quốc Bảo", now, position="Kỹ sư")
    away, _ = account(p, "stc", "Phan Thị Hoa", now, position="Kế toán")
    do_suspend(actor=OPERATOR, profile=p, account=away, now=now, rule="NB-7.2c",
               reason="mật khẩu bị lộ")
    gone, _ = account(p, "stc", "Đỗ Văn Đi", now)
    do_leave(actor=OPERATOR, profile=p, account=gone, effective=now.date(), now=now)
    purged, _ = account(p, "stc", "Vũ Thị Xóa", now)
    do_delete(actor=OPERATOR, profile=p, account=purged, now=now, rule="KH-4.4", reason="")
    do_create_account(actor=OPERATOR, profile=p, agency_ref="stc", full_name="Trịnh Văn Chờ",
                      now=now, requested=True)
    other, _ = account(p, "snv", "Hoàng Thị Nội", now)
    Account.objects.filter(pk=head.pk).update(last_login=timezone.now())
    return {"p": p, "box": box, "unit": unit, "unit_box": unit_box, "head": head,
            "clerk": clerk, "tech": tech, "away": away, "other": other}


def test_nb_11_5_the_agency_page_lists_its_units_and_staff_without_sign_in(
        province: Any) -> None:
    resp = Client().get("/danh-ba/stc/")
    assert resp.status_code == 200
    html = resp.content.decode()
    main = html.split("<main", 1)[1]
    assert "<h1>Sở Tài chính</h1>" in main
    assert province["box"].address in main and province["unit_box"].address in main
    for person in ("head", "clerk", "tech", "away"):
        assert province[person].address in main, person
    assert "Giám đốc" in main and "Văn phòng Sở" in main and "Trung tâm Dịch vụ tài chính" in main
    # The clerk is listed under her department, the engineer under his unit.
    vp = slugify(Agency.objects.get(abbr="vp").account_name)
    section = main.split(f'id="unit-{vp}"')[1].split("</section>")[0]
    assert province["clerk"].address in section and province["head"].address not in section
    # Only the published fields: nothing about states, rules, sign-ins, other agencies.
    for private in ("NB-7.2c", "mật khẩu bị lộ", "Đỗ Văn Đi", "Vũ Thị Xóa", "Trịnh Văn Chờ",
                    "Hoàng Thị Nội", "Sở Nội vụ", "Tạm dừng", "active", "suspended"):
        assert private not in main, private
    assert resp["X-Frame-Options"] == "DENY"
    assert 'href="/danh-ba/stc/danh-ba.csv"' in main and "&lt;iframe" in main


def test_a_units_page_links_back_to_its_agency(province: Any) -> None:
    unit = province["unit"]
    html = Client().get(f"/danh-ba/{unit.account_name}/").content.decode()
    assert 'href="/danh-ba/stc/"' in html and province["tech"].address in html
    assert province["head"].address not in html


def test_an_unknown_agency_is_a_404_page_in_vietnamese(province: Any) -> None:
    for url in ("/danh-ba/khongco/", "/danh-ba/khongco/danh-ba.json",
                "/danh-ba/khongco/danh-ba.csv", "/danh-ba/khongco/nhung/"):
        resp = Client().get(url)
        assert resp.status_code == 404, url
        html = resp.content.decode()
        assert "Không tìm thấy" in html and "khongco" in html and 'lang="vi"' in html


def test_the_index_lists_the_top_level_agencies(province: Any) -> None:
    html = Client().get("/danh-ba/").content.decode()
    assert 'href="/danh-ba/stc/"' in html and 'href="/danh-ba/snv/"' in html
    assert "ttdv" not in html  # units are on their agency's page
    assert "NB-11.5" in html


def test_json_for_programs_with_cors_and_caching(province: Any) -> None:
    resp = Client().get("/danh-ba/stc/danh-ba.json")
    assert resp.status_code == 200 and resp["Access-Control-Allow-Origin"] == "*"
    assert "public" in resp["Cache-Control"] and "Set-Cookie" not in resp.headers
    data = json.loads(resp.content)
    assert data["agency"] == {"name": "Sở Tài chính", "account_name": "stc",
                              "kind": "province-dept", "address": province["box"].address,
                              "parent": None}
    units = {u["account_name"]: u for u in data["units"]}
    # By given name, the Vietnamese way: Hoa before Hùng.
    assert [p["name"] for p in units["stc"]["persons"]] == ["Phan Thị Hoa", "Nguyễn Văn Hùng"]
    everyone = {p["address"] for u in data["units"] for p in u["persons"]}
    assert everyone == {province[k].address for k in ("head", "clerk", "tech", "away")}
    assert set(units["stc"]["persons"][0]) == {"name", "position", "address"}
    assert units[province["unit"].account_name]["address"] == province["unit_box"].address
    assert "Hoàng Thị Nội" not in resp.content.decode()


def test_csv_opens_in_a_spreadsheet_with_vietnamese_headers(province: Any) -> None:
    resp = Client().get("/danh-ba/stc/danh-ba.csv")
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/csv")
    assert 'filename="danh-ba-stc.csv"' in resp["Content-Disposition"]
    text = resp.content.decode("utf-8")
    assert text.startswith("\ufeff")
    rows = list(csv.reader(io.StringIO(text[1:])))
    assert rows[0] == ["Cơ quan, đơn vị", "Họ và tên", "Chức vụ", "Địa chỉ thư điện tử"]
    assert ["Sở Tài chính", "", "", province["box"].address] in rows
    assert ["Văn phòng Sở", "Lê Thị Mai", "Văn thư", province["clerk"].address] in rows
    assert len(rows) == 1 + 2 + 4  # header, two agency mailboxes, four persons


def test_the_embeddable_variant_may_be_framed_and_has_no_chrome(province: Any) -> None:
    resp = Client().get("/danh-ba/stc/nhung/")
    assert resp.status_code == 200
    assert "X-Frame-Options" not in resp.headers
    csp = resp["Content-Security-Policy"]
    assert "frame-ancestors *" in csp and "script-src 'self'" in csp
    assert "'none'" not in csp.split("frame-ancestors")[1].split(";")[0]
    html = resp.content.decode()
    assert "<script" not in html and "<form" not in html and ' style="' not in html
    assert 'class="bar"' not in html  # no site header nor language switch
    assert province["clerk"].address in html and 'target="_blank" rel="noopener"' in html
    assert "Set-Cookie" not in resp.headers and "public" in resp["Cache-Control"]
    english = Client().get("/danh-ba/stc/nhung/?lang=en").content.decode()
    assert 'lang="en"' in english and "Official e-mail address:" in english


def test_the_public_pages_use_a_constant_number_of_queries(
        province: Any, django_assert_max_num_queries: Any) -> None:
    p = province["p"]
    now = timezone.now()
    for given in ("An", "Bình", "Cường", "Dũng", "Giang", "Hà", "Hải", "Hạnh", "Hùng", "Khánh"):
        account(p, "stc", f"Phạm Văn {given}", now, position="Chuyên viên",
                department_ref="vp")
    for url in ("/danh-ba/stc/", "/danh-ba/stc/danh-ba.json", "/danh-ba/stc/danh-ba.csv",
                "/danh-ba/stc/nhung/"):
        with django_assert_max_num_queries(8):
            assert Client().get(url).status_code == 200


def test_the_public_pages_only_read(province: Any) -> None:
    before = list(Account.objects.order_by("id").values_list("id", "state", "address"))
    for method in ("post", "put", "delete"):
        resp = getattr(Client(), method)("/danh-ba/stc/")
        assert resp.status_code in (403, 405), method
    assert list(Account.objects.order_by("id").values_list("id", "state", "address")) == before
    assert re.search(r"<form[^>]*action=\"/danh-ba", Client().get("/danh-ba/stc/")
                     .content.decode()) is None
