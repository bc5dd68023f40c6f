"""Shared fixtures of the console tests: a small province (``world``), browsers signed in
through the real sign-in page (``sign_in``) or, where the sign-in itself is not what a
test is about, a Django test client logged in directly (``logged_in``)."""

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
from congvu.sso.actions import do_start_session
from congvu.sso.middleware import SID
from congvu.sso.models import SecondFactor
from tests.factories import OPERATOR, account, agency, grant

NEW = "Kx7#ab9Qzz!m"


@pytest.fixture(autouse=True)
def _fresh_throttle_and_keys() -> Iterator[None]:
    cache.clear()
    keys.forget()
    yield
    cache.clear()
    keys.forget()


def csrf(html: str) -> str:
    return re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', html).group(1)  # type: ignore[union-attr]


def post_form(c: Client, url: str, data: dict[str, str]) -> Any:
    page = c.get(url)
    return c.post(url, {"csrfmiddlewaretoken": csrf(page.content.decode()), **data})


def sign_in(acct: Account, otp: str, next_url: str = "/console/") -> Client:
    """A browser signed in at the real sign-in page: first sign-in with the one-time
    password, the password change, and (operators) the authenticator's enrolment."""
    c = Client()
    page = c.get("/sso/login/", {"next": next_url})
    resp = c.post("/sso/login/", {"csrfmiddlewaretoken": csrf(page.content.decode()),
                                  "address": acct.address, "password": otp,
                                  "next": next_url})
    assert resp["Location"] == "/sso/password/", resp
    resp = post_form(c, "/sso/password/", {"new_password1": NEW, "new_password2": NEW})
    if resp["Location"] == "/sso/totp/enrol/":
        c.get("/sso/totp/enrol/")
        secret = SecondFactor.objects.get(account=acct).secret
        code = pyotp.TOTP(secret, interval=totp.STEP).now()
        resp = post_form(c, "/sso/totp/enrol/", {"code": code})
    assert resp.status_code == 302 and resp["Location"] == next_url, resp
    return c


def file_request(p: Profile, kind: str, agency_ref: str, when: dt.datetime,
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
    fresh = file_request(p, "new_mailboxes", "sotttt", now - dt.timedelta(minutes=5),
                  RequestForm(requester_name="A", persons=(PersonRow("Lê Văn Tám"),)))
    oldest = file_request(p, "password_reissue", "sotttt", now - dt.timedelta(days=30), reissue)
    older = file_request(p, "new_mailboxes", "ttcntt", now - dt.timedelta(days=20),
                  RequestForm(requester_name="B", persons=(PersonRow("Phan Văn Hùng"),)))
    foreign = file_request(p, "new_mailboxes", "stc", now - dt.timedelta(minutes=1),
                    RequestForm(requester_name="Người Sở Tài Chính",
                                persons=(PersonRow("Võ Thị Hoa Sen"),)))
    return {"p": p, "it": (it, it_otp), "servant": (servant, servant_otp),
            "op": (op, op_otp), "fresh": fresh, "oldest": oldest, "older": older,
            "foreign": foreign}



def logged_in(acct: Account) -> Client:
    """A Django test client with a session for ``acct`` (no sign-in page, no second
    factor): for tests about a page, not about signing in."""
    c = Client()
    c.force_login(acct)
    sso = do_start_session(account=acct, session_key=c.session.session_key or "",
                           now=timezone.now())
    session = c.session
    session[SID] = sso.sid
    session.save()
    return c
