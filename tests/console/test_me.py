"""A person's own pages in the console (issue 6): the profile, the second factor's status
with links to the SSO's pages, a voluntary password change through the profile's policy
and history (the other SSO sessions end), automatic forwarding within NB-4.5, and the
mailbox's usage against its quota."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.utils import timezone

from congvu import deployment
from congvu.accounts.models import Account, Forward
from congvu.audit.models import AuditEvent
from congvu.mail.config import MailPaths
from congvu.sso.actions import do_start_session
from congvu.sso.models import SsoSession
from tests.console.conftest import csrf, logged_in
from tests.factories import account, agency

pytestmark = pytest.mark.django_db

ME = "/console/me/"
GOOD = "Kx7#ab9Qzz!m"


def _main(html: str) -> str:
    return html.split("<main", 1)[1]


def _events(action: str) -> list[AuditEvent]:
    return list(AuditEvent.objects.filter(action=action))


# --- the profile ----------------------------------------------------------------------


def test_the_profile_shows_who_where_roles_state_and_last_sign_in(world: Any) -> None:
    servant = world["servant"][0]
    when = dt.datetime(2026, 3, 2, 1, 30, tzinfo=dt.UTC)  # 08:30 in Quảng Nam
    Account.objects.filter(pk=servant.pk).update(last_login=when)
    resp = logged_in(servant).get(ME)
    assert resp.status_code == 200
    html = _main(resp.content.decode())
    for text in ("Phạm Thị Cúc", servant.address, "Sở Tài chính", "Cán bộ, công chức",
                 "Đang hoạt động", "02/03/2026 08:30"):
        assert text in html, text
    # The second factor: not enrolled, not required, links to the SSO's own pages.
    assert 'href="/sso/totp/enrol/"' in html and 'href="/sso/"' in html
    assert "Không bắt buộc" in html or "không bắt buộc" in html
    # QN has no maximum password age: no expiry line.
    assert 'id="me-expiry"' not in html


def test_nb_8_2a_the_password_expiry_date_is_shown(use_profile: Any) -> None:
    p = use_profile("ninh-binh")
    agency(p, "skhcn", "Sở Khoa học và Công nghệ")
    acct, _otp = account(p, "skhcn", "Nguyễn Ngọc Thành", timezone.now())
    Account.objects.filter(pk=acct.pk).update(
        password_changed_at=dt.datetime(2026, 1, 10, 3, tzinfo=dt.UTC))
    html = _main(logged_in(acct).get(ME).content.decode())
    expiry = re.search(r'id="me-expiry">(.*?)</dd>', html, re.S).group(1)  # type: ignore[union-attr]
    assert "10/07/2026" in expiry and "NB-8.2a" in expiry


def test_an_operator_sees_the_second_factor_is_required(world: Any) -> None:
    html = _main(logged_in(world["op"][0]).get(ME).content.decode())
    assert 'id="me-second-factor-required">Có' in html
    assert 'id="mailbox-none"' in html  # an operator's account has no mailbox


# --- the password ---------------------------------------------------------------------


def _post(c: Client, url: str, data: dict[str, str], **extra: Any) -> Any:
    """POST a form of the profile page, with the page's CSRF token."""
    token = csrf(c.get(ME).content.decode())
    return c.post(url, {"csrfmiddlewaretoken": token, **data}, **extra)


def _change(c: Client, current: str, new: str, again: str | None = None) -> Any:
    return _post(c, "/console/me/password/", {
        "current_password": current, "new_password1": new,
        "new_password2": new if again is None else again})


def test_a_password_change_keeps_this_browser_and_ends_the_others(world: Any) -> None:
    servant, otp = world["servant"]
    c = logged_in(servant)
    other = do_start_session(account=servant, session_key="elsewhere", now=timezone.now())
    resp = _change(c, otp, GOOD)
    assert resp.status_code == 302 and resp["Location"] == "/console/me/#password"
    servant.refresh_from_db()
    assert check_password(GOOD, servant.password) and not servant.must_change_password
    assert SsoSession.objects.get(pk=other.pk).ended_at is not None
    page = c.get(ME)  # still signed in here
    assert page.status_code == 200
    assert "Đã đổi mật khẩu" in page.content.decode()
    assert len(_events("account.change_password")) == 1


def test_a_wrong_current_password_names_the_field_and_changes_nothing(world: Any) -> None:
    servant, _otp = world["servant"]
    before = Account.objects.get(pk=servant.pk).password
    c = logged_in(servant)
    resp = _change(c, "sai-mat-khau", GOOD)
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "Mật khẩu hiện tại: Mật khẩu hiện tại không đúng." in html
    assert Account.objects.get(pk=servant.pk).password == before
    assert _events("account.change_password") == []


def test_qn_8_1_a_weak_password_is_refused_with_every_rule_named(world: Any) -> None:
    servant, otp = world["servant"]
    before = Account.objects.get(pk=servant.pk).password
    resp = _change(logged_in(servant), otp, "cuc")
    assert resp.status_code == 400
    errors = re.search(r'id="new_password1-errors">(.*?)</ul>', resp.content.decode(), re.S
                       ).group(1)  # type: ignore[union-attr]
    assert errors.count("<li>") >= 3 and "QN-8.1" in errors and "tối thiểu 8 ký tự" in errors
    assert Account.objects.get(pk=servant.pk).password == before


def test_the_two_new_passwords_must_match_and_fields_are_required(world: Any) -> None:
    servant, otp = world["servant"]
    c = logged_in(servant)
    resp = _change(c, otp, GOOD, again=GOOD + "x")
    assert resp.status_code == 400
    assert "Nhập lại mật khẩu mới: hai mật khẩu mới không giống nhau" in resp.content.decode()
    resp = _change(c, "", "")
    html = resp.content.decode()
    assert "Mật khẩu hiện tại: hãy nhập mật khẩu" in html and "Mật khẩu mới: hãy nhập" in html


def test_a_recent_password_cannot_come_back(world: Any) -> None:
    servant, otp = world["servant"]
    c = logged_in(servant)
    assert _change(c, otp, GOOD).status_code == 302
    resp = _change(c, GOOD, otp)
    assert resp.status_code == 400
    assert "QN-8.1" in resp.content.decode()


def test_wrong_current_passwords_are_throttled(world: Any) -> None:
    servant, otp = world["servant"]
    c = logged_in(servant)
    for _ in range(5):
        assert _change(c, "nope", GOOD).status_code == 400
    resp = _change(c, otp, GOOD)  # even the right one waits now
    assert resp.status_code == 400 and "quá nhiều lần" in resp.content.decode()


# --- forwarding (NB-4.5) --------------------------------------------------------------


def _forward(c: Client, target: str, **extra: Any) -> Any:
    return _post(c, "/console/me/forwards/", {"target": target, "keep_copy": "on"}, **extra)


def test_nb_4_5_forwarding_to_a_government_mailbox_is_added_and_audited(world: Any) -> None:
    servant = world["servant"][0]
    c = logged_in(servant)
    resp = _forward(c, "Cuc.PT@stc.quangnam.gov.vn")
    assert resp.status_code == 302 and resp["Location"] == "/console/me/#forwarding"
    assert list(Forward.objects.filter(account=servant).values_list("target", "keep_copy")
                ) == [("cuc.pt@stc.quangnam.gov.vn", True)]
    event = _events("mailbox.forward")[0]
    assert event.rule == "NB-4.5" and event.target == servant.address
    html = c.get(ME).content.decode()
    assert "cuc.pt@stc.quangnam.gov.vn" in html and 'id="forward-notice"' not in html


def test_nb_4_5_forwarding_to_gmail_is_refused_in_vietnamese_and_nothing_written(
        world: Any) -> None:
    servant = world["servant"][0]
    resp = _forward(logged_in(servant), "cuc@gmail.com")
    assert resp.status_code == 400
    errors = re.search(r'id="target-errors">(.*?)</ul>', resp.content.decode(), re.S
                       ).group(1)  # type: ignore[union-attr]
    assert "Chuyển tiếp tới" in errors and "NB-4.5" in errors and "gmail.com" in errors
    assert "quy định NB-4.5" in errors
    assert not Forward.objects.exists() and _events("mailbox.forward") == []


def test_invalid_and_self_forwarding_are_refused(world: Any) -> None:
    servant = world["servant"][0]
    c = logged_in(servant)
    assert "không hợp lệ" in _forward(c, "not an address").content.decode()
    assert "chính nó" in _forward(c, servant.address).content.decode()
    assert "hãy nhập địa chỉ" in _forward(c, "").content.decode()
    assert not Forward.objects.exists()


def test_forwarding_is_removed_and_audited(world: Any) -> None:
    servant = world["servant"][0]
    c = logged_in(servant)
    _forward(c, "cuc@stc.quangnam.gov.vn")
    resp = _post(c, "/console/me/forwards/remove/", {"target": "cuc@stc.quangnam.gov.vn"})
    assert resp.status_code == 302
    assert not Forward.objects.exists()
    assert _events("mailbox.unforward")[0].rule == "NB-4.5"


def test_htmx_swaps_the_forwarding_section(world: Any) -> None:
    servant = world["servant"][0]
    c = logged_in(servant)
    resp = _forward(c, "cuc@stc.quangnam.gov.vn", HTTP_HX_REQUEST="true")
    body = resp.content.decode()
    assert resp.status_code == 200 and body.startswith('<section aria-labelledby="forwarding-h"')
    assert 'id="forward-notice"' in body and "cuc@stc.quangnam.gov.vn" in body
    refused = _forward(c, "cuc@yahoo.com", HTTP_HX_REQUEST="true")
    assert refused.status_code == 200 and "NB-4.5" in refused.content.decode()
    assert Forward.objects.count() == 1


# --- the mailbox ----------------------------------------------------------------------


def test_usage_is_not_available_before_the_mail_plane_starts(world: Any) -> None:
    html = _main(logged_in(world["servant"][0]).get(ME).content.decode())
    assert 'id="mailbox-unavailable"' in html and "chưa được khởi động" in html
    assert "<meter" not in html


def test_usage_used_quota_and_percent_with_a_meter(world: Any) -> None:
    servant = world["servant"][0]
    local, _sep, domain = servant.address.partition("@")
    cur = MailPaths(deployment.home()).vmail_dir / domain / local / "Maildir" / "cur"
    cur.mkdir(parents=True)
    try:
        (cur / "1.mail").write_bytes(b"x" * 1024 * 1024)
        html = _main(logged_in(servant).get(ME).content.decode())
        quota = servant.mailbox.quota_bytes
        assert f'max="{quota}" value="{1024 * 1024}"' in html
        assert "Số thư: 1." in html and "Đã dùng 1,0\xa0MB trên 5,0\xa0GB" in html
    finally:
        import shutil

        shutil.rmtree(MailPaths(deployment.home()).vmail_dir)


# --- authorisation --------------------------------------------------------------------


@pytest.mark.parametrize("url", [ME, "/console/me/password/", "/console/me/forwards/",
                                 "/console/me/forwards/remove/"])
def test_anonymous_visitors_are_sent_to_sign_in(world: Any, url: str) -> None:
    for resp in (Client().get(url), Client().post(url, {"target": "a@b.gov.vn"})):
        assert resp.status_code == 302 and resp["Location"].startswith("/sso/login/")
    assert not Forward.objects.exists()


@pytest.mark.parametrize("who", ["it", "servant", "op"])
def test_forged_fields_never_reach_another_persons_mailbox(world: Any, who: str) -> None:
    """No form names an account: an extra ``address``/``account`` field is ignored, and
    removing a forwarding only looks among the signed-in person's own."""
    nam_address = Account.objects.get(person__full_name="Nguyễn Văn Nam").address
    nam = Account.objects.get(address=nam_address)
    theirs = Forward.objects.create(account=nam, target="nam@sotttt.quangnam.gov.vn",
                                    created_at=timezone.now())
    me = world[who][0]
    c = logged_in(me)
    token = csrf(c.get(ME).content.decode())
    c.post("/console/me/forwards/", {"csrfmiddlewaretoken": token,
                                     "target": "x@stc.quangnam.gov.vn",
                                     "address": nam_address, "account": str(nam.pk)})
    resp = c.post("/console/me/forwards/remove/", {"csrfmiddlewaretoken": token,
                                                   "target": theirs.target,
                                                   "address": nam_address})
    assert Forward.objects.filter(pk=theirs.pk).exists()
    assert not Forward.objects.filter(account=nam).exclude(pk=theirs.pk).exists()
    if who != "op":  # an operator's account has no mailbox to forward
        assert Forward.objects.filter(account=me, target="x@stc.quangnam.gov.vn").exists()
    assert resp.status_code == 400 and nam_address not in _main(resp.content.decode()) \
        .split('id="forwards"')[1]
    c.post("/console/me/password/", {"csrfmiddlewaretoken": token, "current_password": "x",
                                     "new_password1": GOOD, "new_password2": GOOD,
                                     "address": nam_address})
    assert not AuditEvent.objects.filter(action="account.change_password",
                                         target=nam_address).exists()
    page = _main(c.get(ME).content.decode())
    assert nam_address not in page and "nam@sotttt.quangnam.gov.vn" not in page


def test_get_on_a_form_endpoint_is_refused(world: Any) -> None:
    c = logged_in(world["servant"][0])
    for url in ("/console/me/password/", "/console/me/forwards/",
                "/console/me/forwards/remove/"):
        assert c.get(url).status_code == 405


def test_the_profile_uses_few_queries(world: Any, django_assert_max_num_queries: Any) -> None:
    c = logged_in(world["servant"][0])
    c.get(ME)
    with django_assert_max_num_queries(20):
        assert c.get(ME).status_code == 200


def test_english_is_available(world: Any) -> None:
    c = logged_in(world["servant"][0])
    c.post("/i18n/setlang/", {"language": "en", "next": ME})
    html = c.get(ME).content.decode()
    assert 'lang="en"' in html and "My profile" in html and "Automatic forwarding" in html
    resp = _forward(c, "x@gmail.com")
    assert "rule NB-4.5" in resp.content.decode()
