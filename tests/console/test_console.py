"""The web console's first slice (issue 6): the console home, the request list (the
operator's queue, an agency's own requests) and one request, signed in through congvu's
own SSO sign-in page; least privilege comes from the selectors (403/404 pages)."""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable, Iterator
from typing import Any

import pyotp
import pytest
from django.core.cache import cache
from django.test import Client
from django.utils import timezone

from congvu.accounts.actions import do_create_operator
from congvu.accounts.models import Account
from congvu.profiles import Profile
from congvu.requests import actions
from congvu.requests.filing import AddressRow, PersonRow, RequestForm
from congvu.requests.models import ServiceRequest
from congvu.sso import keys, totp
from congvu.sso.models import SecondFactor
from tests.factories import OPERATOR, account, agency, grant

pytestmark = pytest.mark.django_db
NEW = "Kx7#ab9Qzz!m"


@pytest.fixture(autouse=True)
def _fresh_throttle_and_keys() -> Iterator[None]:
    cache.clear()
    keys.forget()
    yield
    cache.clear()
    keys.forget()


def _csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def _post(c: Client, url: str, data: dict[str, str]) -> Any:
    page = c.get(url)
    return c.post(url, {"csrfmiddlewaretoken": _csrf(page.content.decode()), **data})


def sign_in(acct: Account, otp: str, next_url: str = "/console/") -> Client:
    """A browser signed in at the real sign-in page: first sign-in with the one-time
    password, the password change, and (operators) the authenticator's enrolment."""
    c = Client()
    page = c.get("/sso/login/", {"next": next_url})
    resp = c.post("/sso/login/", {"csrfmiddlewaretoken": _csrf(page.content.decode()),
                                  "address": acct.address, "password": otp,
                                  "next": next_url})
    assert resp["Location"] == "/sso/password/", resp
    resp = _post(c, "/sso/password/", {"new_password1": NEW, "new_password2": NEW})
    if resp["Location"] == "/sso/totp/enrol/":
        c.get("/sso/totp/enrol/")
        secret = SecondFactor.objects.get(account=acct).secret
        code = pyotp.TOTP(secret, interval=totp.STEP).now()
        resp = _post(c, "/sso/totp/enrol/", {"code": code})
    assert resp.status_code == 302 and resp["Location"] == next_url, resp
    return c


def _file(p: Profile, kind: str, agency_ref: str, when: dt.datetime,
          form: RequestForm) -> ServiceRequest:
    return actions.do_file_request(actor=OPERATOR, profile=p, kind=kind,
                                   agency_ref=agency_ref, now=when, form=form)


@pytest.fixture
def world(use_profile: Callable[[str], Profile]) -> dict[str, Any]:
    p = use_profile("quang-nam")
    now = timezone.now()
    long_ago = now - dt.timedelta(days=90)
    agency(p, "sotttt", "Sở Thông tin và Truyền thông", now=long_ago)
    agency(p, "ttcntt", "Trung tâm CNTT", kind="unit", parent="sotttt", now=long_ago)
    agency(p, "stc", "Sở Tài chính", now=long_ago)
    nam, _ = account(p, "sotttt", "Nguyễn Văn Nam", long_ago)
    it, it_otp = account(p, "sotttt", "Trần Văn An", long_ago)
    grant(p, it.address, "agency-it", "sotttt", long_ago)
    servant, servant_otp = account(p, "stc", "Phạm Thị Cúc", long_ago)
    op, op_otp = do_create_operator(actor=OPERATOR, profile=p, local_part="quantri",
                                    now=long_ago)
    reissue = RequestForm(requester_name="Trần Văn An", addresses=(AddressRow(nam.address),))
    fresh = _file(p, "new_mailboxes", "sotttt", now - dt.timedelta(minutes=5),
                  RequestForm(requester_name="A", persons=(PersonRow("Lê Văn Tám"),)))
    oldest = _file(p, "password_reissue", "sotttt", now - dt.timedelta(days=30), reissue)
    older = _file(p, "new_mailboxes", "ttcntt", now - dt.timedelta(days=20),
                  RequestForm(requester_name="B", persons=(PersonRow("Phan Văn Hùng"),)))
    foreign = _file(p, "new_mailboxes", "stc", now - dt.timedelta(minutes=1),
                    RequestForm(requester_name="Người Sở Tài Chính",
                                persons=(PersonRow("Võ Thị Hoa Sen"),)))
    return {"p": p, "it": (it, it_otp), "servant": (servant, servant_otp),
            "op": (op, op_otp), "fresh": fresh, "oldest": oldest, "older": older,
            "foreign": foreign}


def _ids(html: str) -> list[int]:
    return [int(n) for n in re.findall(r'<tr id="request-(\d+)"', html)]


def test_anonymous_visitors_are_sent_to_the_sign_in_page_and_back(world: Any) -> None:
    for url in ("/console/", "/console/requests/?overdue=1", "/console/requests/1/"):
        resp = Client().get(url)
        assert resp.status_code == 302
        assert resp["Location"].startswith("/sso/login/?next=")
        from urllib.parse import parse_qs, urlsplit

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
    assert ' style="' not in resp.content.decode() and "<script" not in resp.content.decode()
    c.post("/i18n/setlang/", {"language": "en", "next": "/console/requests/"})
    html = c.get("/console/requests/").content.decode()
    assert "Request queue" in html and 'lang="en"' in html and "Overdue" in html
    assert c.get("/static/console.css").status_code == 200
