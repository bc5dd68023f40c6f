"""Filing and following requests in the console (issue 6): KH Mẫu 01 with a table of
persons, Mẫu 02 change codes, Mẫu 03 deletion, restore, password re-issue; every problem
beside its field in Vietnamese with its rule and nothing written; the filer's cancel;
the operator's link to processing; and, for every view, an agency contact, a civil
servant and an anonymous visitor refused another agency's data."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from congvu.accounts.models import Account
from congvu.audit.models import AuditEvent
from congvu.requests.actions import do_take_request
from congvu.requests.models import RequestItem, RequestStatus, ServiceRequest
from tests.console.conftest import csrf, logged_in
from tests.factories import OPERATOR, account, grant

pytestmark = pytest.mark.django_db

FORM01 = "/console/requests/new/new_mailboxes/"


def _counts() -> tuple[int, int, int]:
    return (ServiceRequest.objects.count(), RequestItem.objects.count(),
            AuditEvent.objects.filter(action__startswith="request.").count())


def _post(c: Client, url: str, data: dict[str, str], **extra: Any) -> Any:
    page = c.get(url)
    assert page.status_code == 200, page.content.decode()[:500]
    return c.post(url, {"csrfmiddlewaretoken": csrf(page.content.decode()), **data}, **extra)


def _header(**over: str) -> dict[str, str]:
    return {"agency": "sotttt", "requester_name": "Trần Văn An",
            "requester_position": "Chuyên viên", "requester_phone": "0235 3822 123",
            "file": "1", **over}


def _error_of(html: str, field_id: str) -> str:
    """The messages shown beside the input ``field_id``."""
    found = re.findall(rf'<p class="field-error" id="{re.escape(field_id)}_error">(.*?)</p>',
                       html, re.S)
    return " ".join(found)


def _it(world: dict[str, Any]) -> Client:
    return logged_in(world["it"][0])


# --- choosing the kind ------------------------------------------------------------------


def test_the_chooser_lists_each_form_with_the_profiles_deadline_and_rule(world: Any) -> None:
    c = _it(world)
    html = c.get("/console/requests/").content.decode()
    assert 'href="/console/requests/new/"' in html
    resp = c.get("/console/requests/new/")
    assert resp.status_code == 200
    html = resp.content.decode()
    for kind in ("new_mailboxes", "change", "deletion", "restore", "password_reissue"):
        assert f'href="/console/requests/new/{kind}/"' in html
    assert "Cấp hộp thư mới (Mẫu 01)" in html
    # QN-5.2: new mailboxes in 5 working days; QN-6.2: a password in 2.
    assert "5 ngày làm việc (QN-5.2)" in html and "2 ngày làm việc (QN-6.2)" in html
    # The deployment's own province's rules only.
    assert "(QN-5)" in html and "KH-4.1" not in html and "NB-6.2" not in html
    assert c.get("/console/requests/new/nonsense/").status_code == 404


def test_form_01_offers_only_the_contacts_own_agencies_and_their_units(world: Any) -> None:
    html = _it(world).get(FORM01).content.decode()
    select = re.search(r'<select name="agency".*?</select>', html, re.S).group(0)  # type: ignore[union-attr]
    assert 'value="sotttt"' in select and 'value="ttcntt_sotttt"' in select
    assert "stc" not in select and "Sở Tài chính" not in html
    # The requester defaults to the person signed in; labels for every input.
    assert 'value="Trần Văn An"' in html
    for name in ("agency", "requester_name", "requester_phone", "agency_mailbox",
                 "row-1-full_name", "row-1-department", "row-3-birth_date"):
        assert f'for="id_{name}"' in html and f'id="id_{name}"' in html
    assert "<caption" in html and '<th scope="col">' in html
    # Strict CSP: no inline style or script; htmx adds rows, the plain button works without.
    assert ' style="' not in html and re.findall(r"<script[^>]*>", html) == [
        '<script src="/static/htmx.min.js" defer>', '<script src="/static/filing.js" defer>']
    assert _it(world).get("/static/filing.js").status_code == 200
    assert 'hx-get="/console/requests/new/new_mailboxes/row/"' in html
    assert '<option value="Trung tâm CNTT">' in html  # the units, to pick from


# --- Mẫu 01 -------------------------------------------------------------------------------


def test_kh_4_1_form_01_with_two_persons_is_filed_with_its_deadline_and_rule(
        world: Any) -> None:
    c = _it(world)
    before = _counts()
    resp = _post(c, FORM01, {
        **_header(),
        "row-1-full_name": "Lê Thị Hồng Nhung", "row-1-position": "Chuyên viên",
        "row-1-department": "Trung tâm CNTT", "row-1-birth_date": "1990-04-30",
        "row-2-full_name": "Võ Văn Kiệt", "row-2-position": "Phó Giám đốc",
        "row-2-leader": "on",
        "row-3-full_name": "", "rows": "3"})
    assert resp.status_code == 302, resp.content.decode()
    req = ServiceRequest.objects.latest("id")
    assert resp["Location"] == f"/console/requests/{req.pk}/"
    assert _counts()[0] == before[0] + 1
    assert (req.kind, req.agency.account_name, req.status) == ("new_mailboxes", "sotttt",
                                                               "filed")
    assert (req.requester_name, req.requester_phone) == ("Trần Văn An", "0235 3822 123")
    assert req.filed_by == world["it"][0] and req.deadline_rule == "QN-5.2"
    items = list(req.items.order_by("number"))
    assert [(i.number, i.full_name, i.leader) for i in items] == [
        (1, "Lê Thị Hồng Nhung", False), (2, "Võ Văn Kiệt", True)]
    assert items[0].unit is not None and items[0].unit.account_name == "ttcntt_sotttt"
    assert items[0].birth_date == dt.date(1990, 4, 30)
    assert AuditEvent.objects.filter(action="request.file", target=req.target).count() == 1
    page = c.get(resp["Location"]).content.decode()
    deadline = req.deadline_at.astimezone(dt.timezone(dt.timedelta(hours=7)))
    assert deadline.strftime("%d/%m/%Y %H:%M") in page
    assert "5 ngày làm việc" in page and "QN-5.2" in page
    assert f"Yêu cầu #{req.pk} đã được gửi" in page
    assert "Lê Thị Hồng Nhung" in page and "Võ Văn Kiệt" in page
    # It is in the agency's list with its deadline and rule.
    listing = c.get("/console/requests/").content.decode()
    row = re.search(rf'<tr id="request-{req.pk}".*?</tr>', listing, re.S).group(0)  # type: ignore[union-attr]
    assert deadline.strftime("%d/%m/%Y %H:%M") in row and "QN-5.2" in row


def test_every_problem_is_shown_beside_its_field_in_vietnamese_and_nothing_is_written(
        world: Any) -> None:
    c = _it(world)
    before = _counts()
    resp = _post(c, FORM01, {
        **_header(requester_phone="gọi tôi"),
        "row-1-full_name": "Lê Thị Hồng Nhung", "row-1-department": "Phòng Không Có",
        "row-2-full_name": "Tám", "row-2-position": "Chuyên viên",
        "rows": "3"})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert _counts() == before
    assert "Yêu cầu chưa được gửi" in html and "Chưa có gì được ghi" in html
    phone = _error_of(html, "id_requester_phone")
    assert phone.startswith("Điện thoại:") and "gọi tôi" in phone
    dept = _error_of(html, "id_row-1-department")
    assert dept.startswith("Dòng 1, phòng/ban hoặc đơn vị:") and "Phòng Không Có" in dept
    name = _error_of(html, "id_row-2-full_name")
    assert name.startswith("Dòng 2, họ và tên:") and "QN-4.1" in name
    # What was typed is kept, the inputs are marked, the summary links to them.
    assert 'value="Lê Thị Hồng Nhung"' in html and 'value="Tám"' in html
    assert 'value="gọi tôi"' in html and 'aria-invalid="true"' in html
    assert 'href="#id_row-2-full_name"' in html and 'role="alert"' in html


def test_blank_rows_in_between_are_dropped_and_the_rows_renumbered(world: Any) -> None:
    resp = _post(_it(world), FORM01, {
        **_header(), "row-1-full_name": "Lê Thị Hồng Nhung", "row-2-full_name": "  ",
        "row-3-full_name": "Tám", "rows": "3"})
    html = resp.content.decode()
    assert resp.status_code == 400
    # The domain's "Row 2" is the second row on the page.
    assert 'id="id_row-2-full_name"' in html and 'value="Tám"' in html
    assert _error_of(html, "id_row-2-full_name").startswith("Dòng 2, họ và tên:")
    assert not _error_of(html, "id_row-3-full_name")


def test_an_unreadable_birth_date_is_shown_with_every_other_problem(world: Any) -> None:
    before = _counts()
    resp = _post(_it(world), FORM01, {
        **_header(requester_phone="abc"), "row-1-full_name": "Lê Thị Hồng Nhung",
        "row-1-birth_date": "31/02/1990", "row-2-full_name": "Tám", "rows": "2"})
    html = resp.content.decode()
    assert resp.status_code == 400 and _counts() == before
    assert _error_of(html, "id_row-1-birth_date").startswith("Dòng 1, ngày sinh:")
    assert "dd/mm/yyyy" in _error_of(html, "id_row-1-birth_date")
    assert _error_of(html, "id_row-2-full_name") and _error_of(html, "id_requester_phone")
    assert 'value="31/02/1990"' in html


def test_add_more_rows_without_javascript_keeps_what_was_typed(world: Any) -> None:
    before = _counts()
    resp = _post(_it(world), FORM01, {
        **_header(), "file": "", "more": "1", "row-1-full_name": "Lê Thị Hồng Nhung",
        "row-1-position": "Chuyên viên", "rows": "3"})
    assert resp.status_code == 200 and _counts() == before
    html = resp.content.decode()
    assert 'value="Lê Thị Hồng Nhung"' in html and 'value="Chuyên viên"' in html
    assert 'id="id_row-6-full_name"' in html and 'id="id_row-7-full_name"' not in html
    assert 'field-error' not in html  # nothing checked yet
    assert 'name="rows" id="row-count" value="6"' in html


def test_htmx_add_a_row_returns_the_next_row_and_the_new_count(world: Any) -> None:
    c = _it(world)
    resp = c.get("/console/requests/new/new_mailboxes/row/", {"rows": "3"},
                 HTTP_HX_REQUEST="true")
    html = resp.content.decode()
    assert resp.status_code == 200 and html.lstrip().startswith('<tr id="row-4">')
    assert 'name="row-4-full_name"' in html and 'for="id_row-4-full_name"' in html
    assert 'id="row-count" value="4" hx-swap-oob="true"' in html
    assert "<html" not in html
    # The rows added by htmx are read like the others.
    resp = _post(c, FORM01, {**_header(), "row-1-full_name": "Lê Thị Hồng Nhung",
                             "row-4-full_name": "Võ Văn Kiệt", "rows": "4"})
    assert resp.status_code == 302
    assert ServiceRequest.objects.latest("id").items.count() == 2


def test_more_rows_than_one_form_takes_are_refused_not_dropped(world: Any) -> None:
    before = _counts()
    rows = {f"row-{n}-full_name": f"Lê Văn Số {n}" for n in range(1, 203)}
    resp = _post(_it(world), FORM01, {**_header(), **rows})
    assert resp.status_code == 400 and _counts() == before
    html = resp.content.decode()
    assert "nhiều hơn 200 dòng" in html and 'value="Lê Văn Số 200"' in html


def test_form_01_the_agency_mailbox_alone_is_a_request(world: Any) -> None:
    resp = _post(_it(world), FORM01, {**_header(agency="ttcntt"), "agency_mailbox": "ttcntt",
                                      "rows": "3"})
    assert resp.status_code == 302
    item = ServiceRequest.objects.latest("id").items.get()
    assert item.action == "create_agency_mailbox" and item.unit.account_name == "ttcntt_sotttt"  # type: ignore[union-attr]


def test_an_empty_form_says_what_to_add(world: Any) -> None:
    before = _counts()
    resp = _post(_it(world), FORM01, {**_header(), "rows": "3"})
    assert resp.status_code == 400 and _counts() == before
    html = resp.content.decode()
    assert "mẫu chưa có ai: hãy thêm ít nhất một người hoặc hộp thư cơ quan." in html
    assert 'href="#rows-table"' in html


# --- Mẫu 02, Mẫu 03, restore, re-issue ----------------------------------------------------


def test_kh_4_3_form_02_changes_with_codes_and_an_unknown_code_is_named(world: Any) -> None:
    nam = Account.objects.get(person__full_name="Nguyễn Văn Nam")
    c = _it(world)
    url = "/console/requests/new/change/"
    html = c.get(url).content.decode()
    assert '<option value="1">1 — chức vụ</option>' in html
    before = _counts()
    resp = _post(c, url, {**_header(), "row-1-full_name": "Nguyễn Văn Nam",
                          "row-1-address": nam.address, "row-1-code": "7",
                          "row-1-new_value": "Trưởng phòng"})
    assert resp.status_code == 400 and _counts() == before
    assert "KH-4.3" in _error_of(resp.content.decode(), "id_row-1-code")
    resp = _post(c, url, {**_header(), "row-1-full_name": "Nguyễn Văn Nam",
                          "row-1-address": nam.address.split("@")[0], "row-1-code": "1",
                          "row-1-new_value": "Trưởng phòng"})
    assert resp.status_code == 302
    item = ServiceRequest.objects.latest("id").items.get()
    assert (item.action, item.change_code, item.new_value, item.account) == (
        "change_position", 1, "Trưởng phòng", nam)


def test_form_03_needs_its_reason_and_effective_date(world: Any) -> None:
    nam = Account.objects.get(person__full_name="Nguyễn Văn Nam")
    c = _it(world)
    url = "/console/requests/new/deletion/"
    before = _counts()
    resp = _post(c, url, {**_header(), "row-1-address": nam.address})
    html = resp.content.decode()
    assert resp.status_code == 400 and _counts() == before
    assert _error_of(html, "id_reason").startswith("Lý do:")
    assert _error_of(html, "id_effective_date").startswith("Ngày hiệu lực:")
    resp = _post(c, url, {**_header(), "row-1-address": nam.address,
                          "effective_date": "tháng sau"})
    assert "dd/mm/yyyy" in _error_of(resp.content.decode(), "id_effective_date")
    resp = _post(c, url, {**_header(), "row-1-address": nam.address,
                          "row-1-full_name": "Nguyễn Văn Nam", "reason": "Nghỉ hưu",
                          "effective_date": "30/06/2026"})
    assert resp.status_code == 302
    req = ServiceRequest.objects.latest("id")
    assert (req.kind, req.reason, req.effective_date) == ("deletion", "Nghỉ hưu",
                                                          dt.date(2026, 6, 30))


def test_restore_of_an_active_account_says_which_request_fits(world: Any) -> None:
    nam = Account.objects.get(person__full_name="Nguyễn Văn Nam")
    before = _counts()
    resp = _post(_it(world), "/console/requests/new/restore/", {
        **_header(), "row-1-address": nam.address, "reason": "Quên mật khẩu"})
    assert resp.status_code == 400 and _counts() == before
    assert nam.address in _error_of(resp.content.decode(), "id_row-1-address")


def test_qn_6_password_reissue_is_filed_with_its_deadline(world: Any) -> None:
    nam = Account.objects.get(person__full_name="Nguyễn Văn Nam")
    resp = _post(_it(world), "/console/requests/new/password_reissue/", {
        **_header(), "row-1-address": nam.address})
    assert resp.status_code == 302
    req = ServiceRequest.objects.latest("id")
    assert (req.kind, req.deadline_rule) == ("password_reissue", "QN-6.2")


def test_an_operator_types_the_agency_and_an_unknown_one_is_a_field_error(
        world: Any) -> None:
    c = logged_in(world["op"][0])
    html = c.get(FORM01).content.decode()
    assert '<input type="text" name="agency"' in html
    before = _counts()
    resp = _post(c, FORM01, {**_header(agency="khongco"), "row-1-full_name": "Lê Văn Tư"})
    assert resp.status_code == 400 and _counts() == before
    assert _error_of(resp.content.decode(), "id_agency").startswith("Cơ quan:")
    resp = _post(c, FORM01, {**_header(agency="stc"), "row-1-full_name": "Lê Văn Tư"})
    assert resp.status_code == 302


def test_english_is_available(world: Any) -> None:
    c = _it(world)
    c.post("/i18n/setlang/", {"language": "en", "next": FORM01})
    resp = _post(c, FORM01, {**_header(), "row-1-full_name": "Tám", "rows": "1"})
    assert _error_of(resp.content.decode(), "id_row-1-full_name").startswith(
        "Row 1, full name:")


# --- following: the list's status filter, cancel, the link to processing -----------------


def test_the_status_filter_works_on_the_agencys_own_list(world: Any) -> None:
    c = _it(world)
    do_take_request(actor=OPERATOR, request_id=world["older"].pk, now=timezone.now())
    ids = lambda q: {int(n) for n in re.findall(  # noqa: E731
        r'<tr id="request-(\d+)"', c.get("/console/requests/" + q).content.decode())}
    mine = {world[k].pk for k in ("fresh", "oldest", "older")}
    assert ids("") == mine
    assert ids("?status=in_progress") == {world["older"].pk}
    assert ids("?status=filed") == mine - {world["older"].pk}
    assert ids("?status=open") == mine
    assert ids("?status=done") == set()
    html = c.get("/console/requests/?status=in_progress").content.decode()
    assert '<option value="in_progress" selected>' in html


def test_the_filer_cancels_a_request_still_filed(world: Any) -> None:
    c = _it(world)
    req = world["fresh"]
    page = c.get(f"/console/requests/{req.pk}/").content.decode()
    assert f'action="/console/requests/{req.pk}/cancel/"' in page
    assert "/process/" not in page  # processing is the operator's
    resp = c.post(f"/console/requests/{req.pk}/cancel/", {
        "csrfmiddlewaretoken": csrf(page), "reason": "Gửi nhầm"})
    assert resp.status_code == 302 and resp["Location"] == f"/console/requests/{req.pk}/"
    req.refresh_from_db()
    assert (req.status, req.status_reason) == (RequestStatus.CANCELLED, "Gửi nhầm")
    assert AuditEvent.objects.filter(action="request.cancel", target=req.target).count() == 1
    page = c.get(f"/console/requests/{req.pk}/").content.decode()
    assert "Đã hủy" in page and "/cancel/" not in page
    assert c.get(f"/console/requests/{req.pk}/cancel/").status_code == 405


def test_a_request_an_operator_took_can_no_longer_be_cancelled(world: Any) -> None:
    c = _it(world)
    req = world["older"]
    page = c.get(f"/console/requests/{req.pk}/").content.decode()
    do_take_request(actor=OPERATOR, request_id=req.pk, now=timezone.now())
    assert "/cancel/" not in c.get(f"/console/requests/{req.pk}/").content.decode()
    resp = c.post(f"/console/requests/{req.pk}/cancel/", {"csrfmiddlewaretoken": csrf(page)})
    assert resp.status_code == 403
    req.refresh_from_db()
    assert req.status == RequestStatus.IN_PROGRESS


def test_operators_get_the_link_to_process_an_open_request(world: Any) -> None:
    c = logged_in(world["op"][0])
    req = world["foreign"]
    page = c.get(f"/console/requests/{req.pk}/").content.decode()
    assert f'href="/console/requests/{req.pk}/process/"' in page and "/cancel/" not in page
    cancelled = world["fresh"]
    cancelled.status = RequestStatus.CANCELLED
    cancelled.save()
    assert "/process/" not in c.get(f"/console/requests/{cancelled.pk}/").content.decode()


def test_a_clerk_files_for_their_own_agency(world: Any) -> None:
    p = world["p"]
    clerk, _otp = account(p, "stc", "Đặng Thị Thu", timezone.now() - dt.timedelta(days=9))
    grant(p, clerk.address, "clerk", "stc")
    c = logged_in(clerk)
    html = c.get(FORM01).content.decode()
    assert 'value="stc"' in html and "sotttt" not in html
    resp = _post(c, FORM01, {**_header(agency="stc"), "row-1-full_name": "Lê Văn Tư"})
    assert resp.status_code == 302
    before = _counts()
    resp = _post(c, FORM01, {**_header(agency="sotttt"), "row-1-full_name": "Lê Văn Tư"})
    assert resp.status_code == 403 and _counts() == before


# --- authorisation: every view ----------------------------------------------------------


def test_a_forged_agency_in_the_post_is_refused_by_the_domain_with_nothing_written(
        world: Any) -> None:
    c = _it(world)
    before = _counts()
    for data in ({**_header(agency="stc"), "row-1-full_name": "Lê Văn Tư"},
                 # With an unreadable date too: the check without writing refuses it as well.
                 {**_header(agency="stc"), "row-1-full_name": "Lê Văn Tư",
                  "row-1-birth_date": "xx"}):
        resp = _post(c, FORM01, data)
        assert resp.status_code == 403
        html = resp.content.decode()
        assert "Không có quyền truy cập" in html and "Sở Tài chính" not in html
    assert _counts() == before
    assert not ServiceRequest.objects.filter(agency__account_name="stc",
                                             items__full_name="Lê Văn Tư").exists()


def test_another_agencys_mailbox_in_a_row_is_refused_without_revealing_its_holder(
        world: Any) -> None:
    cuc = world["servant"][0]  # a civil servant of stc
    before = _counts()
    for kind in ("deletion", "password_reissue"):
        resp = _post(_it(world), f"/console/requests/new/{kind}/", {
            **_header(), "row-1-address": cuc.address, "row-1-full_name": "Ai Đó",
            "reason": "Nghỉ hưu", "effective_date": "2026-06-30"})
        assert resp.status_code == 400
        html = resp.content.decode()
        assert "Phạm Thị Cúc" not in html and "Sở Tài chính" not in html
    assert _counts() == before


def test_civil_servants_and_anonymous_visitors_cannot_file_or_cancel(world: Any) -> None:
    servant = logged_in(world["servant"][0])
    foreign, fresh = world["foreign"], world["fresh"]
    before = _counts()
    urls = ["/console/requests/new/", FORM01, "/console/requests/new/new_mailboxes/row/?rows=1"]
    for url in urls:
        assert servant.get(url).status_code == 403
        anon = Client().get(url)
        assert anon.status_code == 302 and anon["Location"].startswith("/sso/login/")
    page = servant.get("/console/").content.decode()
    for data in ({**_header(agency="stc"), "row-1-full_name": "Lê Văn Tư"},
                 {**_header(agency="sotttt"), "row-1-full_name": "Lê Văn Tư"}):
        resp = servant.post(FORM01, {"csrfmiddlewaretoken": csrf(page), **data})
        assert resp.status_code == 403 and "Lê Văn Tư" not in resp.content.decode()
        assert Client().post(FORM01, data).status_code in (302, 403)
    for req in (foreign, fresh):
        resp = servant.post(f"/console/requests/{req.pk}/cancel/",
                            {"csrfmiddlewaretoken": csrf(page)})
        assert resp.status_code == 403
        assert Client().post(f"/console/requests/{req.pk}/cancel/").status_code in (302, 403)
        req.refresh_from_db()
        assert req.status == RequestStatus.FILED
    assert _counts() == before


def test_an_agency_contact_cannot_cancel_or_read_another_agencys_request(
        world: Any) -> None:
    c = _it(world)
    foreign = world["foreign"]
    page = c.get("/console/requests/").content.decode()
    before = _counts()
    resp = c.post(f"/console/requests/{foreign.pk}/cancel/",
                  {"csrfmiddlewaretoken": csrf(page), "reason": "x"})
    assert resp.status_code == 403
    html = resp.content.decode()
    for secret in ("Võ Thị Hoa Sen", "Người Sở Tài Chính", "Sở Tài chính"):
        assert secret not in html
    foreign.refresh_from_db()
    assert foreign.status == RequestStatus.FILED and _counts() == before
    assert c.post("/console/requests/999999/cancel/",
                  {"csrfmiddlewaretoken": csrf(page)}).status_code == 404
    # The status filter does not open another agency's requests either.
    listing = c.get("/console/requests/?status=filed").content.decode()
    assert f'id="request-{foreign.pk}"' not in listing and "Võ Thị Hoa Sen" not in listing
