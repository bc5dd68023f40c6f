"""The web console's first slice (issue 6): the console home, the request list (the
operator's queue, an agency's own requests) and one request, signed in through congvu's
own SSO sign-in page; least privilege comes from the selectors (403/404 pages)."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from urllib.parse import parse_qs, urlsplit

import pytest
from django.test import Client

from tests.console.conftest import logged_in, sign_in

pytestmark = pytest.mark.django_db


def _ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="request-(\d+)"', html)]


def test_anonymous_visitors_are_sent_to_the_sign_in_page_and_back(world: Any) -> None:
    for url in ("/console/", "/console/requests/?overdue=1", "/console/requests/1/"):
        resp = Client().get(url)
        assert resp.status_code == 302
        assert resp["Location"].startswith("/sso/login/?next=")
        assert parse_qs(urlsplit(resp["Location"]).query)["next"] == [url]


def test_the_operator_sees_the_queue_overdue_first_and_flagged(world: Any) -> None:
    op, otp = world["op"]
    c = sign_in(op, otp, "/console/requests/")
    resp = c.get("/console/requests/")
    assert resp.status_code == 200
    html = resp.content.decode()
    oldest, older, fresh, foreign = (world[k] for k in ("oldest", "older", "fresh", "foreign"))
    ids = _ids(html)
    assert ids[:2] == [oldest.pk, older.pk]
    assert set(ids[2:]) == {fresh.pk, foreign.pk}
    assert "Hàng đợi yêu cầu" in html and 'lang="vi"' in html
    rows = re.findall(r'<tr id="request-(\d+)"( class="overdue")?>(.*?)</tr>', html, re.S)
    flagged = {int(i): ("Quá hạn" in body) for i, _cls, body in rows}
    assert flagged == {oldest.pk: True, older.pk: True, fresh.pk: False, foreign.pk: False}
    # The deadline in the profile's time zone, dd/mm/yyyy HH:MM, and its rule.
    local = oldest.deadline_at.astimezone(dt.timezone(dt.timedelta(hours=7)))
    row = {int(i): body for i, _c, body in rows}[oldest.pk]
    assert local.strftime("%d/%m/%Y %H:%M") in row and oldest.deadline_rule in row
    assert "<caption" in html and '<th scope="col">' in html
    # Filters as GET parameters, no script needed.
    assert _ids(c.get("/console/requests/?overdue=1").content.decode()) == [oldest.pk, older.pk]
    assert _ids(c.get("/console/requests/?status=done").content.decode()) == []
    assert c.get("/console/requests/?status=nonsense").status_code == 400
    # The operator opens any agency's request.
    page = c.get(f"/console/requests/{foreign.pk}/")
    assert page.status_code == 200 and "Võ Thị Hoa Sen" in page.content.decode()


def test_an_agency_it_contact_sees_their_agency_subtree_only(world: Any) -> None:
    it, otp = world["it"]
    c = sign_in(it, otp)
    home = c.get("/console/").content.decode()
    assert it.address in home and "/console/requests/" in home and 'href="/sso/"' in home
    html = c.get("/console/requests/").content.decode()
    assert set(_ids(html)) == {world["oldest"].pk, world["older"].pk, world["fresh"].pk}
    assert "Võ Thị Hoa Sen" not in html and "Sở Tài chính" not in html
    own = c.get(f"/console/requests/{world['older'].pk}/")
    assert own.status_code == 200 and "Phan Văn Hùng" in own.content.decode()


def test_another_agencys_request_by_url_is_a_403_without_its_data(world: Any) -> None:
    it, otp = world["it"]
    c = sign_in(it, otp)
    resp = c.get(f"/console/requests/{world['foreign'].pk}/")
    assert resp.status_code == 403
    html = resp.content.decode()
    assert "Không có quyền truy cập" in html
    for secret in ("Võ Thị Hoa Sen", "Người Sở Tài Chính", "Sở Tài chính", "stc"):
        assert secret not in html
    assert c.get("/console/requests/999999/").status_code == 404


def test_a_civil_servant_gets_a_403_page_on_the_requests(world: Any) -> None:
    servant, otp = world["servant"]
    c = sign_in(servant, otp)
    home = c.get("/console/")
    assert home.status_code == 200
    assert "/console/requests/" not in home.content.decode().split("<main", 1)[1]
    resp = c.get("/console/requests/")
    assert resp.status_code == 403
    assert "Không có quyền truy cập" in resp.content.decode()
    assert c.get(f"/console/requests/{world['fresh'].pk}/").status_code == 403


def test_vietnamese_by_default_english_with_the_switch_and_a_strict_csp(world: Any) -> None:
    op, otp = world["op"]
    c = sign_in(op, otp)
    resp = c.get("/console/requests/", HTTP_ACCEPT_LANGUAGE="en")
    assert "Hàng đợi yêu cầu" in resp.content.decode()
    csp = resp["Content-Security-Policy"]
    assert "unsafe-inline" not in csp and "style-src 'self'" in csp
    page = resp.content.decode()
    # No inline style or script: the only script is htmx, a file from our own origin.
    assert ' style="' not in page
    assert re.findall(r"<script[^>]*>", page) == ['<script src="/static/htmx.min.js" defer>']
    c.post("/i18n/setlang/", {"language": "en", "next": "/console/requests/"})
    html = c.get("/console/requests/").content.decode()
    assert "Request queue" in html and 'lang="en"' in html and "Overdue" in html
    assert c.get("/static/console.css").status_code == 200


def test_the_navigation_offers_each_audience_its_own_areas(world: Any) -> None:
    nav = {}
    for who in ("op", "it", "servant"):
        html = logged_in(world[who][0]).get("/console/").content.decode()
        nav[who] = set(re.findall(r'<nav class="console-nav".*?</nav>', html, re.S)[0]
                       .split('href="')[1:])
    def links(who: str) -> set[str]:
        return {x.split('"')[0] for x in nav[who]}
    assert {"/console/audit/", "/console/roles/", "/console/imports/"} <= links("op")
    assert "/console/accounts/" in links("it") and "/console/roles/" not in links("it")
    assert "/console/requests/" not in links("servant")
    assert {"/console/me/", "/console/directory/"} <= links("servant")
