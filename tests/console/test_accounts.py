"""The console's accounts pages (issue 6): the list with its filters and counts, one
account, and its actions through the existing actions with the signed-in actor. Every
view is also tried by an agency contact on another agency's account (URL and form
fields), a clerk, a civil servant and an anonymous visitor: 403 (or the sign-in page),
none of the other agency's data, nothing changed."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.utils import timezone

from congvu.accounts.models import Account, ReservedName
from congvu.audit.models import AuditEvent
from congvu.console.pages import accounts as accounts_page
from tests.console.conftest import csrf, logged_in
from tests.factories import account, agency, grant

pytestmark = pytest.mark.django_db

DENIED = "Không có quyền truy cập"


def _post(c: Client, url: str, data: dict[str, str], page: str = "") -> Any:
    """POST with the CSRF token of ``page`` (the page the form is on)."""
    html = c.get(page or url).content.decode()
    return c.post(url, {"csrfmiddlewaretoken": csrf(html), **data})


def _addresses(html: str) -> list[str]:
    return re.findall(r'<th scope="row"><a href="/console/accounts/[^"]+/">([^<]+)</a>', html)


def _snapshot(acct: Account) -> tuple[Any, ...]:
    acct.refresh_from_db()
    return (acct.state, acct.password, acct.agency_id, acct.address, acct.reason,
            acct.must_change_password)


@pytest.fixture
def stc_account(world: Any) -> Account:
    return world["servant"][0]


@pytest.fixture
def clerk(world: Any) -> Account:
    acct, _otp = account(world["p"], "sotttt", "Đỗ Thị Lan", timezone.now())
    grant(world["p"], acct.address, "clerk", "sotttt")
    return acct


# ------------------------------------------------------------------------- the list


def test_the_operator_lists_every_account_with_counts_and_filters(world: Any) -> None:
    op = world["op"][0]
    c = logged_in(op)
    html = c.get("/console/accounts/").content.decode()
    assert {"namnv@quangnam.gov.vn", "antv@quangnam.gov.vn", "cucpt@quangnam.gov.vn",
            op.address} <= set(_addresses(html))
    assert "Tài khoản" in html and "<caption" in html and '<th scope="col">' in html
    counts = re.search(r'<ul class="counts".*?</ul>', html, re.S).group(0)  # type: ignore[union-attr]
    assert "Đang hoạt động: <strong>4</strong>" in counts
    assert "Tất cả: <strong>4</strong>" in counts
    # Filters are GET parameters: state, agency (its subtree), search.
    assert _addresses(c.get("/console/accounts/?agency=stc").content.decode()) == [
        "cucpt@quangnam.gov.vn"]
    assert _addresses(c.get("/console/accounts/?state=suspended").content.decode()) == []
    assert c.get("/console/accounts/?state=nonsense").status_code == 400


def test_search_ignores_accents_and_case_on_names_and_finds_addresses(world: Any) -> None:
    c = logged_in(world["op"][0])
    for query in ("nguyen van", "NGUYỄN", "Nguyên Văn Nam", "nam", "namnv"):
        found = _addresses(c.get("/console/accounts/", {"q": query}).content.decode())
        assert "namnv@quangnam.gov.vn" in found, query
    assert _addresses(c.get("/console/accounts/", {"q": "pham thi cuc"}).content.decode()) == [
        "cucpt@quangnam.gov.vn"]
    assert _addresses(c.get("/console/accounts/", {"q": "Trần Thị"}).content.decode()) == []


def test_pagination_keeps_the_filters(world: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setattr(accounts_page, "PAGE_SIZE", 2)
    c = logged_in(world["op"][0])
    html = c.get("/console/accounts/?state=active").content.decode()
    assert len(_addresses(html)) == 2
    assert 'href="?state=active&amp;page=2"' in html and "Trang 1 / 2" in html
    rest = _addresses(c.get("/console/accounts/?state=active&page=2").content.decode())
    assert len(rest) == 2 and not set(rest) & set(_addresses(html))


def test_htmx_gets_only_the_results_fragment(world: Any) -> None:
    c = logged_in(world["op"][0])
    resp = c.get("/console/accounts/?q=cuc", HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert "<html" not in html and "<table" in html
    assert _addresses(html) == ["cucpt@quangnam.gov.vn"]
    assert "<html" in c.get("/console/accounts/?q=cuc").content.decode()


def test_an_agency_contact_lists_their_own_subtree_only(world: Any) -> None:
    p = world["p"]
    agency(p, "vp", "Văn phòng Sở", kind="department", parent="sotttt")
    staff, _otp = account(p, "sotttt", "Hồ Văn Phòng", timezone.now(), department_ref="vp")
    unit, _otp = account(p, "ttcntt", "Lý Thị Mai", timezone.now())
    c = logged_in(world["it"][0])
    html = c.get("/console/accounts/").content.decode()
    found = set(_addresses(html))
    assert {"namnv@quangnam.gov.vn", staff.address, unit.address} <= found
    assert "cucpt@quangnam.gov.vn" not in found and "Phạm Thị Cúc" not in html
    assert world["op"][0].address not in found
    assert "Sở Tài chính" not in html  # not even in the agency filter
    # Naming another agency in the filter or searching for its people shows nothing.
    resp = c.get("/console/accounts/?agency=stc")
    assert resp.status_code == 403 and "Phạm Thị Cúc" not in resp.content.decode()
    assert _addresses(c.get("/console/accounts/?q=cuc").content.decode()) == []
    counts = c.get("/console/accounts/").content.decode()
    assert "Tất cả: <strong>4</strong>" in counts  # nam, it, staff, unit and nobody else


def test_civil_servants_and_anonymous_visitors_get_no_account_list(world: Any) -> None:
    servant = world["servant"][0]
    resp = logged_in(servant).get("/console/accounts/")
    assert resp.status_code == 403 and DENIED in resp.content.decode()
    assert "namnv@" not in resp.content.decode()
    for url in ("/console/accounts/", "/console/accounts/new/",
                "/console/accounts/namnv@quangnam.gov.vn/",
                "/console/accounts/namnv@quangnam.gov.vn/suspend/"):
        resp = Client().get(url)
        assert resp.status_code == 302 and resp["Location"].startswith("/sso/login/")


# ----------------------------------------------------------------------- one account


def test_the_account_page_shows_state_rule_roles_aliases_and_events(world: Any) -> None:
    it = world["it"][0]
    c = logged_in(world["op"][0])
    html = c.get(f"/console/accounts/{it.address}/").content.decode()
    assert "Trần Văn An" in html and "Sở Thông tin và Truyền thông" in html
    assert "Đang hoạt động" in html
    assert "phải đổi ở lần đăng nhập tới (quy định QN-5.3)" in html
    assert "Cán bộ phụ trách CNTT" in html  # the agency-it grant
    assert "account.create" in html and "role.grant" in html
    # An alias after an address change, and the events under the old address too.
    resp = _post(c, f"/console/accounts/{it.address}/address/", {"local_part": "an.tran"})
    assert resp.status_code == 302 and resp["Location"] == (
        "/console/accounts/an.tran@quangnam.gov.vn/")
    html = c.get(resp["Location"]).content.decode()
    assert "Bí danh antv@quangnam.gov.vn" in html and "Đã đổi địa chỉ." in html
    assert "account.create" in html and "account.change_address" in html
    # The old address leads to the account's page under its new one.
    old = c.get(f"/console/accounts/{it.address}/")
    assert old.status_code == 302 and old["Location"].endswith("/an.tran@quangnam.gov.vn/")
    assert c.get("/console/accounts/nobody@quangnam.gov.vn/").status_code == 404


def test_the_account_page_reads_in_a_fixed_number_of_queries(
        world: Any, django_assert_max_num_queries: Any) -> None:
    p, nam = world["p"], Account.objects.get(address="namnv@quangnam.gov.vn")
    c = logged_in(world["op"][0])
    url = f"/console/accounts/{nam.address}/"
    c.get(url)
    with django_assert_max_num_queries(15):
        assert c.get(url).status_code == 200
    # Many more events, grants and forwards: the same number of queries.
    grant(p, nam.address, "clerk", "sotttt")
    grant(p, nam.address, "clerk", "stc")
    from congvu.mail.actions import do_add_forward
    from tests.factories import OPERATOR

    for n in range(5):
        do_add_forward(actor=OPERATOR, profile=p, address=nam.address,
                       target=f"hop{n}@danang.gov.vn", keep_copy=True,
                       now=timezone.now())
    with django_assert_max_num_queries(15):
        html = c.get(url).content.decode()
    assert "hop4@danang.gov.vn" in html and "Sở Tài chính" in html


def test_an_agency_contact_cannot_open_another_agencys_account(world: Any,
                                                               stc_account: Account) -> None:
    c = logged_in(world["it"][0])
    resp = c.get(f"/console/accounts/{stc_account.address}/")
    assert resp.status_code == 403
    html = resp.content.decode()
    assert DENIED in html
    for secret in ("Phạm Thị Cúc", "Sở Tài chính", "account.create"):
        assert secret not in html
    op = world["op"][0]
    assert c.get(f"/console/accounts/{op.address}/").status_code == 403
    assert c.get("/console/accounts/namnv@quangnam.gov.vn/").status_code == 200


def test_a_clerk_sees_own_agency_accounts_read_only(world: Any, clerk: Account,
                                                    stc_account: Account) -> None:
    c = logged_in(clerk)
    html = c.get("/console/accounts/namnv@quangnam.gov.vn/").content.decode()
    assert "Nguyễn Văn Nam" in html and 'id="actions"' not in html
    assert 'id="read-only"' in html
    assert c.get(f"/console/accounts/{stc_account.address}/").status_code == 403
    nam = Account.objects.get(address="namnv@quangnam.gov.vn")
    before = _snapshot(nam)
    for action in ("reset-password", "suspend", "delete"):
        resp = c.post(f"/console/accounts/{nam.address}/{action}/",
                      {"reason": "x", "confirm": "on"})
        assert resp.status_code == 403, action
    assert _snapshot(nam) == before


# ------------------------------------------------------------- password actions


def test_reset_password_shows_the_one_time_password_once_never_cached(world: Any) -> None:
    nam = Account.objects.get(address="namnv@quangnam.gov.vn")
    c = logged_in(world["op"][0])
    page = f"/console/accounts/{nam.address}/"
    resp = _post(c, f"{page}reset-password/", {}, page)
    assert resp.status_code == 200
    assert "no-store" in resp["Cache-Control"]
    html = resp.content.decode()
    otp = re.search(r'id="one-time-password">([^<]+)<', html).group(1)  # type: ignore[union-attr]
    import html as html_lib

    otp = html_lib.unescape(otp)
    nam.refresh_from_db()
    assert check_password(otp, nam.password) and nam.must_change_password
    assert "Bàn giao tài khoản thư điện tử công vụ" in html and "QN-5.3" in html
    event = AuditEvent.objects.filter(action="account.reset_password").last()
    assert event is not None and event.actor == f"operator:{world['op'][0].address}"
    assert otp not in str(event.data) and otp not in event.reason
    # Shown once: the account page never shows it again.
    assert otp not in c.get(page).content.decode()
    assert c.get(f"{page}reset-password/").status_code == 302  # GET changes nothing


def test_an_agency_contact_resets_in_their_agency_but_not_another_by_url(
        world: Any, stc_account: Account) -> None:
    c = logged_in(world["it"][0])
    nam_page = "/console/accounts/namnv@quangnam.gov.vn/"
    resp = _post(c, f"{nam_page}reset-password/", {}, nam_page)
    assert resp.status_code == 200 and 'id="one-time-password"' in resp.content.decode()
    before = _snapshot(stc_account)
    resp = _post(c, f"/console/accounts/{stc_account.address}/reset-password/", {}, nam_page)
    assert resp.status_code == 403
    assert "Phạm Thị Cúc" not in resp.content.decode()
    assert _snapshot(stc_account) == before
    assert not AuditEvent.objects.filter(target=stc_account.address,
                                         action="account.reset_password").exists()


def test_suspend_needs_a_rule_or_reason_then_restore_issues_a_password(world: Any) -> None:
    nam = Account.objects.get(address="namnv@quangnam.gov.vn")
    c = logged_in(world["op"][0])
    url = f"/console/accounts/{nam.address}/suspend/"
    form = c.get(url).content.decode()
    assert '<label for="id_reason">' in form and "NB-7.1" in form
    resp = _post(c, url, {"rule": "", "reason": "  "})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "Lý do: bắt buộc khi không chọn quy định" in html
    nam.refresh_from_db()
    assert nam.state == "active"
    # QN has no rule ID for a manual suspension: any other value is refused.
    resp = _post(c, url, {"rule": "NB-7.2c", "reason": ""})
    assert resp.status_code == 400 and "Quy định:" in resp.content.decode()
    resp = _post(c, url, {"rule": "", "reason": "Máy tính nhiễm mã độc"})
    assert resp.status_code == 302
    nam.refresh_from_db()
    assert nam.state == "suspended" and nam.reason_text == "Máy tính nhiễm mã độc"
    html = c.get(resp["Location"]).content.decode()
    assert "Đã tạm dừng tài khoản." in html and "Máy tính nhiễm mã độc" in html
    assert 'id="action-restore"' in html and 'id="action-suspend"' not in html
    # A second suspension is refused by the state machine, shown on the page.
    resp = _post(c, url, {"reason": "lần nữa"})
    assert resp.status_code == 400 and 'id="error"' in resp.content.decode()
    page = f"/console/accounts/{nam.address}/"
    resp = _post(c, f"{page}restore/", {}, page)
    assert resp.status_code == 200 and 'id="one-time-password"' in resp.content.decode()
    nam.refresh_from_db()
    assert nam.state == "active" and nam.reason == "QN-6"


def test_the_profile_offers_its_own_suspension_rules(use_profile: Any) -> None:
    p = use_profile("ninh-binh")
    agency(p, "skhcn", "Sở Khoa học và Công nghệ")
    acct, _otp = account(p, "skhcn", "Nguyễn Ngọc Thành", timezone.now())
    from congvu.accounts.actions import do_create_operator
    from tests.factories import OPERATOR

    op, _otp = do_create_operator(actor=OPERATOR, profile=p, local_part="quantri",
                                  now=timezone.now())
    c = logged_in(op)
    url = f"/console/accounts/{acct.address}/suspend/"
    html = c.get(url).content.decode()
    assert 'value="NB-7.2c"' in html and 'value="NB-7.2d"' in html
    assert _post(c, url, {"rule": "NB-7.2c", "reason": ""}).status_code == 302
    acct.refresh_from_db()
    assert acct.state == "suspended" and acct.reason == "NB-7.2c"


# --------------------------------------------------------------------- transfer


def test_transfer_within_the_subtree_and_a_forged_agency_is_a_403(world: Any) -> None:
    nam = Account.objects.get(address="namnv@quangnam.gov.vn")
    c = logged_in(world["it"][0])
    url = f"/console/accounts/{nam.address}/transfer/"
    form = c.get(url).content.decode()
    assert 'value="ttcntt_sotttt"' in form and 'value="stc"' not in form
    before = _snapshot(nam)
    resp = _post(c, url, {"to_agency": "stc"})  # a select value edited by hand
    assert resp.status_code == 403 and "Sở Tài chính" not in resp.content.decode()
    assert _snapshot(nam) == before
    assert not AuditEvent.objects.filter(action="account.transfer").exists()
    resp = _post(c, url, {"to_agency": "khong-co"})
    assert resp.status_code == 400 and "Cơ quan mới:" in resp.content.decode()
    resp = _post(c, url, {"to_agency": ""})
    assert resp.status_code == 400 and "Cơ quan mới: bắt buộc" in resp.content.decode()
    assert _post(c, url, {"to_agency": "ttcntt_sotttt"}).status_code == 302
    nam.refresh_from_db()
    assert nam.agency.account_name == "ttcntt_sotttt"
    assert nam.address == "namnv@quangnam.gov.vn"  # QN-10.3 keeps the address


def test_the_operator_transfers_anywhere(world: Any) -> None:
    nam = Account.objects.get(address="namnv@quangnam.gov.vn")
    c = logged_in(world["op"][0])
    assert _post(c, f"/console/accounts/{nam.address}/transfer/",
                 {"to_agency": "stc"}).status_code == 302
    nam.refresh_from_db()
    assert nam.agency.account_name == "stc"
    assert AuditEvent.objects.filter(action="account.transfer", rule="QN-10.3").exists()


# ---------------------------------------------------------------- leave and delete


def test_delete_states_the_consequences_and_needs_a_confirmation(world: Any) -> None:
    nam = Account.objects.get(address="namnv@quangnam.gov.vn")
    c = logged_in(world["op"][0])
    url = f"/console/accounts/{nam.address}/delete/"
    page = c.get(url).content.decode()
    assert "không bao giờ cấp cho người khác" in page and "NB-7.4" in page
    assert 'id="consequences"' in page
    resp = _post(c, url, {"rule": "QN-7.1", "reason": ""})
    assert resp.status_code == 400
    assert "Xác nhận: đánh dấu vào ô" in resp.content.decode()
    nam.refresh_from_db()
    assert nam.state == "active"
    assert _post(c, url, {"rule": "QN-7.1", "confirm": "on"}).status_code == 302
    nam.refresh_from_db()
    assert nam.state == "deleted" and nam.reason == "QN-7.1"
    name = ReservedName.objects.get(local_part="namnv")
    assert name.tombstoned_at is not None
    html = c.get(f"/console/accounts/{nam.address}/").content.decode()
    assert "Đã xóa" in html and 'id="actions"' not in html


def test_leave_needs_a_date_then_the_profile_locks(world: Any) -> None:
    nam = Account.objects.get(address="namnv@quangnam.gov.vn")
    c = logged_in(world["op"][0])
    url = f"/console/accounts/{nam.address}/leave/"
    resp = _post(c, url, {"effective": "31/02/2026"})
    assert resp.status_code == 400
    assert "Ngày nghỉ việc: không phải là ngày" in resp.content.decode()
    resp = _post(c, url, {"effective": ""})
    assert "Ngày nghỉ việc: bắt buộc" in resp.content.decode()
    today = timezone.localdate().isoformat()
    assert _post(c, url, {"effective": today}).status_code == 302
    nam.refresh_from_db()
    assert nam.state == "locked" and nam.reason == "QN-7.1"


def test_change_position(world: Any) -> None:
    nam = Account.objects.get(address="namnv@quangnam.gov.vn")
    c = logged_in(world["it"][0])
    url = f"/console/accounts/{nam.address}/position/"
    resp = _post(c, url, {"position": ""})
    assert resp.status_code == 400 and "Chức vụ mới: bắt buộc" in resp.content.decode()
    assert _post(c, url, {"position": "Phó Giám đốc"}).status_code == 302
    nam.refresh_from_db()
    assert nam.person is not None and nam.person.position == "Phó Giám đốc"


def test_a_taken_address_is_refused_next_to_its_field(world: Any) -> None:
    nam = Account.objects.get(address="namnv@quangnam.gov.vn")
    c = logged_in(world["op"][0])
    resp = _post(c, f"/console/accounts/{nam.address}/address/", {"local_part": "cucpt"})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "Địa chỉ mới:" in html and 'id="id_local_part_error"' in html
    nam.refresh_from_db()
    assert nam.address == "namnv@quangnam.gov.vn"


def test_an_agency_contact_cannot_act_on_another_agencys_account(
        world: Any, stc_account: Account) -> None:
    c = logged_in(world["it"][0])
    own = "/console/accounts/namnv@quangnam.gov.vn/"
    before = _snapshot(stc_account)
    base = f"/console/accounts/{stc_account.address}/"
    for action, data in (("suspend", {"reason": "x"}), ("restore", {}),
                         ("transfer", {"to_agency": "sotttt"}), ("leave",
                         {"effective": "2026-01-01"}), ("delete", {"confirm": "on",
                         "reason": "x"}), ("position", {"position": "X"}),
                         ("address", {"local_part": "cuc.pham"})):
        assert c.get(f"{base}{action}/").status_code == 403, action
        resp = _post(c, f"{base}{action}/", data, own)
        assert resp.status_code == 403, action
        assert "Phạm Thị Cúc" not in resp.content.decode()
    assert _snapshot(stc_account) == before
    assert c.get(f"{base}nonsense/").status_code == 403
    assert logged_in(world["op"][0]).get(f"{base}nonsense/").status_code == 404


# -------------------------------------------------------------------- new account


def test_the_operator_creates_an_account_picking_a_suggestion(world: Any) -> None:
    c = logged_in(world["op"][0])
    url = "/console/accounts/new/"
    form = c.get(url).content.decode()
    assert '<label for="id_full_name">' in form and '<label for="id_agency">' in form
    resp = _post(c, url, {"agency": "sotttt", "full_name": "Nguyễn Văn Nam",
                          "suggest": "1"})
    html = resp.content.decode()
    assert resp.status_code == 200
    assert "namnv đã có → namnv1 theo QN-4.2" in html
    assert 'value="namnv1" checked' in html
    assert not Account.objects.filter(address="namnv1@quangnam.gov.vn").exists()
    resp = _post(c, url, {"agency": "sotttt", "full_name": "Nguyễn Văn Nam",
                          "position": "Chuyên viên", "local_part": "namnv2",
                          "create": "1"})
    assert resp.status_code == 200 and "no-store" in resp["Cache-Control"]
    made = Account.objects.get(address="namnv2@quangnam.gov.vn")
    assert made.person is not None and made.person.position == "Chuyên viên"
    assert 'id="one-time-password"' in resp.content.decode()
    assert AuditEvent.objects.filter(action="account.create", target=made.address,
                                     rule="QN-4.2").exists()


def test_create_errors_name_the_field_and_write_nothing(world: Any) -> None:
    c = logged_in(world["op"][0])
    url = "/console/accounts/new/"
    count = Account.objects.count()
    resp = _post(c, url, {"agency": "", "full_name": "", "suggest": "1"})
    html = resp.content.decode()
    assert resp.status_code == 400
    assert "Họ và tên: bắt buộc" in html and "Cơ quan: bắt buộc" in html
    resp = _post(c, url, {"agency": "sotttt", "full_name": "Nam", "suggest": "1"})
    assert resp.status_code == 400 and "Họ và tên:" in resp.content.decode()
    assert "QN-4.1" in resp.content.decode()
    resp = _post(c, url, {"agency": "sotttt", "full_name": "Lê Văn Tám", "create": "1",
                          "other": "cucpt"})
    assert resp.status_code == 400 and "Địa chỉ:" in resp.content.decode()
    resp = _post(c, url, {"agency": "sotttt", "full_name": "Lê Văn Tám", "create": "1",
                          "birth_date": "hôm qua"})
    assert resp.status_code == 400 and "Ngày sinh (không bắt buộc): không phải là ngày" in \
        resp.content.decode()
    assert Account.objects.count() == count


def test_only_operators_create_accounts_here(world: Any, clerk: Account) -> None:
    count = Account.objects.count()
    for who in (world["it"][0], clerk, world["servant"][0]):
        c = logged_in(who)
        assert c.get("/console/accounts/new/").status_code == 403
        resp = _post(c, "/console/accounts/new/", {"agency": "sotttt",
                                                   "full_name": "Lê Văn Tám", "create": "1"},
                     "/console/")
        assert resp.status_code == 403
    assert Account.objects.count() == count


def test_the_account_pages_are_vietnamese_and_strict_csp(world: Any) -> None:
    c = logged_in(world["op"][0])
    for url in ("/console/accounts/", "/console/accounts/new/",
                "/console/accounts/namnv@quangnam.gov.vn/",
                "/console/accounts/namnv@quangnam.gov.vn/delete/"):
        resp = c.get(url)
        html = resp.content.decode()
        assert 'lang="vi"' in html and ' style="' not in html and "<style" not in html
        assert all(s.startswith('<script src="/static/') for s in
                   re.findall(r"<script[^>]*>", html))
        assert "unsafe-inline" not in resp["Content-Security-Policy"]


def test_dates_use_the_profile_time_zone(world: Any) -> None:
    nam = Account.objects.get(address="namnv@quangnam.gov.vn")
    html = logged_in(world["op"][0]).get(f"/console/accounts/{nam.address}/").content.decode()
    local = nam.created_at.astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert local.strftime("%d/%m/%Y %H:%M") in html


def test_no_self_lockout_from_ones_own_page(world: Any) -> None:
    it = world["it"][0]
    html = logged_in(it).get(f"/console/accounts/{it.address}/").content.decode()
    assert 'id="action-reset-password"' in html
    for slug in ("suspend", "leave", "delete"):
        assert f'id="action-{slug}"' not in html
    # QN names no rule for a manual suspension: only the reason is asked.
    form = logged_in(world["op"][0]).get(
        "/console/accounts/namnv@quangnam.gov.vn/suspend/").content.decode()
    assert 'type="hidden" name="rule"' in form and '<label for="id_rule">' not in form
