"""The eOffice office pages (issue 7): work calendars and their iCalendar export and
subscription (GL-8.1), internal messages and notices (GL-8.2), the eOffice's
notifications, delegations (GL-4.5, GL-11) and the agency's eOffice settings (GL-3.4,
GL-12..15), in Vietnamese, with the refusals a user meets."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any
from zoneinfo import ZoneInfo

import pytest
from django.test import Client
from django.utils import timezone

from congvu.calendars.models import Event
from congvu.eoffice.models import Delegation, DelegationStatus, Notice, OfficeRoleGrant
from congvu.messaging.models import Delivery, Message
from tests.calendars.icsparse import parse, unescape
from tests.eoffice.conftest import register
from tests.factories import grant

pytestmark = pytest.mark.django_db
CAL = "/console/eoffice/calendar/"
TZ = ZoneInfo("Asia/Ho_Chi_Minh")


def _today() -> dt.date:
    return timezone.now().astimezone(TZ).date()


def _week() -> str:
    year, week, _day = _today().isocalendar()
    return f"{year}-W{week:02d}"


def _event(c: Client, o: Any, cal: str = "leaders", **kwargs: str) -> Any:
    data = {"agency": "sotttt", "calendar": cal, "title": "Giao ban lãnh đạo Sở",
            "day": _today().isoformat(), "start_time": "08:00", "end_time": "10:30",
            "place": "Phòng họp tầng 2", "chair": "Giám đốc Sở",
            "participants_text": "Lãnh đạo các phòng", "units": str(o.cntt.pk),
            "preparing_unit": "Văn phòng Sở"}
    data.update(kwargs)
    return c.post(f"{CAL}new/", data)


def _text(resp: Any) -> str:
    return resp.content.decode()


# --- calendars (GL-8.1) ---------------------------------------------------------------------


def test_gl_8_1_the_clerk_posts_the_leaders_week_everyone_reads_it(web_office, browser_of) -> None:
    o = web_office
    resp = _event(browser_of(o.clerk), o)
    assert resp.status_code == 302 and f"week={_week()}" in resp["Location"]
    page = browser_of(o.spec).get(CAL, {"week": _week()})
    body = _text(page)
    assert page.status_code == 200
    assert "Lịch công tác tuần" in body and "Giao ban lãnh đạo Sở" in body
    assert "08:00–10:30" in body and "Phòng Công nghệ thông tin" in body
    assert "Tuần trước" in body and "Tuần sau" in body and 'data-print' in body
    assert "Lịch công tác tuần của lãnh đạo" in body
    # The specialist reads it but may not change it.
    event = Event.objects.get()
    assert f"{CAL}{event.pk}/edit/" not in body
    assert browser_of(o.spec).get(f"{CAL}{event.pk}/edit/").status_code == 403


def test_gl_8_1_a_specialist_cannot_post_the_leaders_calendar(web_office, browser_of) -> None:
    o = web_office
    resp = _event(browser_of(o.spec), o)
    assert resp.status_code == 400
    assert "bạn không được ghi vào lịch này" in _text(resp)
    assert not Event.objects.exists()
    # Their own calendar, yes.
    assert _event(browser_of(o.spec), o, cal="me", title="Việc riêng").status_code == 302


def test_gl_8_1_someone_outside_the_agency_cannot_read_its_calendar(web_office,
                                                                     browser_of) -> None:
    o = web_office
    _event(browser_of(o.clerk), o)
    resp = browser_of(o.other_clerk).get(CAL, {"agency": "sotttt"})
    assert resp.status_code == 403
    assert "Giao ban" not in _text(resp).split("<main", 1)[-1]
    event = Event.objects.get()
    assert browser_of(o.other_clerk).get(f"{CAL}{event.pk}/edit/").status_code == 403
    assert browser_of(o.other_clerk).get(f"{CAL}export.ics",
                                         {"agency": "sotttt"}).status_code == 403


def test_gl_8_1_another_departments_calendar_is_refused(web_office, browser_of) -> None:
    o = web_office
    resp = browser_of(o.vp_spec).get(CAL, {"cal": f"dept-{o.cntt.pk}"})
    assert resp.status_code == 403


def test_gl_8_1_the_form_names_what_is_wrong(web_office, browser_of) -> None:
    o = web_office
    resp = _event(browser_of(o.clerk), o, title="", start_time="")
    body = _text(resp)
    assert resp.status_code == 400
    assert "Nội dung: bắt buộc." in body
    assert "Giờ bắt đầu: bắt buộc, trừ khi sự kiện diễn ra cả ngày." in body
    resp = _event(browser_of(o.clerk), o, end_time="07:00")
    assert resp.status_code == 400 and "Kết thúc: phải sau thời điểm bắt đầu." in _text(resp)
    bad = browser_of(o.clerk).get(CAL, {"week": "tuần 48"})
    assert bad.status_code == 400 and "2026-W48" in _text(bad)
    assert not Event.objects.exists()


def test_gl_8_1_previous_and_next_weeks(web_office, browser_of) -> None:
    o = web_office
    body = _text(browser_of(o.spec).get(CAL, {"week": "2026-W48"}))
    assert "23/11/2026" in body and "29/11/2026" in body
    assert "week=2026-W47" in body and "week=2026-W49" in body
    assert "Thứ Hai" in body and "Chủ nhật" in body


def test_gl_8_1_change_and_delete_an_event(web_office, browser_of) -> None:
    o = web_office
    _event(browser_of(o.clerk), o, cal="agency", end_day=(_today() + dt.timedelta(days=1))
           .isoformat())
    event = Event.objects.get()
    c = browser_of(o.director)
    form = c.get(f"{CAL}{event.pk}/edit/")
    assert form.status_code == 200 and "Giao ban lãnh đạo Sở" in _text(form)
    resp = _event(c, o, cal="agency", title="Giao ban (dời sang chiều)", start_time="14:00",
                  end_time="16:00")
    assert resp.status_code == 302  # a new one; now change the first
    resp = c.post(f"{CAL}{event.pk}/edit/", {
        "calendar": "agency", "title": "Giao ban (đổi phòng)", "day": _today().isoformat(),
        "all_day": "on", "place": "Hội trường"})
    assert resp.status_code == 302
    event.refresh_from_db()
    assert (event.title, event.all_day, event.sequence) == ("Giao ban (đổi phòng)", True, 1)
    assert browser_of(o.spec).post(f"{CAL}{event.pk}/delete/").status_code == 403
    assert c.post(f"{CAL}{event.pk}/delete/").status_code == 302
    assert not Event.objects.filter(pk=event.pk).exists()


def test_gl_8_1_the_ics_download_parses_back(web_office, browser_of) -> None:
    o = web_office
    _event(browser_of(o.clerk), o, title="Họp: chuyển đổi số, an toàn; bảo mật")
    resp = browser_of(o.spec).get(f"{CAL}export.ics", {"agency": "sotttt", "cal": "leaders"})
    assert resp.status_code == 200 and resp["Content-Type"].startswith("text/calendar")
    cal = parse(resp.content)
    (event,) = cal.all("VEVENT")
    assert unescape(event.get("SUMMARY")) == "Họp: chuyển đổi số, an toàn; bảo mật"
    assert unescape(event.get("LOCATION")) == "Phòng họp tầng 2"
    assert "Chủ trì: Giám đốc Sở" in unescape(event.get("DESCRIPTION"))
    assert event.get("UID").endswith("@" + o.spec.account.address.split("@")[1])
    assert event.params("DTSTART") == {"TZID": "Asia/Ho_Chi_Minh"}
    assert event.get("DTSTART") == _today().strftime("%Y%m%d") + "T080000"
    assert cal.all("VTIMEZONE")[0].get("TZID") == "Asia/Ho_Chi_Minh"


def test_gl_8_1_a_subscription_url_works_without_a_session_until_revoked(web_office,
                                                                         browser_of) -> None:
    o = web_office
    _event(browser_of(o.clerk), o)
    c = browser_of(o.spec)
    page = c.post(f"{CAL}subscription/", {"action": "create"})
    body = _text(page)
    url = re.search(r"<code>(http[^<]+\.ics)</code>", body).group(1)  # type: ignore[union-attr]
    path = url.split("testserver", 1)[1]
    feed = Client().get(path)
    assert feed.status_code == 200
    assert [unescape(e.get("SUMMARY")) for e in parse(feed.content).all("VEVENT")] == [
        "Giao ban lãnh đạo Sở"]
    # Shown once: the page afterwards says one is in use, not what it is.
    again = _text(c.get(f"{CAL}subscription/"))
    assert path not in again and "Đang dùng địa chỉ theo dõi lịch" in again
    assert c.post(f"{CAL}subscription/", {"action": "revoke"}).status_code == 302
    assert Client().get(path).status_code == 404
    assert Client().get(f"{CAL}feed/not-a-token.ics").status_code == 404


# --- messages and notices (GL-8.2) ----------------------------------------------------------


def test_gl_8_2_send_read_reply_delete(web_office, browser_of) -> None:
    o = web_office
    c = browser_of(o.vp_spec)
    assert "Soạn tin nhắn" in _text(c.get("/console/eoffice/messages/new/"))
    resp = c.post("/console/eoffice/messages/new/", {
        "agency": "sotttt", "units": str(o.cntt.pk), "subject": "Báo cáo tuần",
        "body": "Đề nghị Phòng CNTT gửi báo cáo tuần trước 16 giờ."})
    assert resp.status_code == 302
    message = Message.objects.get()
    spec = browser_of(o.spec)
    inbox = _text(spec.get("/console/eoffice/messages/"))
    assert "Báo cáo tuần" in inbox and 'id="unread-messages"' in inbox
    opened = spec.get(f"/console/eoffice/messages/{message.pk}/")
    assert "Đề nghị Phòng CNTT" in _text(opened) and "Phòng Công nghệ thông tin" in _text(opened)
    assert Delivery.objects.get(message=message, recipient=o.spec.account).read_at is not None
    assert 'id="unread-messages"' not in _text(spec.get("/console/eoffice/messages/"))
    resp = spec.post(f"/console/eoffice/messages/{message.pk}/reply/", {"body": "Đã gửi."})
    assert resp.status_code == 302
    assert "Re: Báo cáo tuần" in _text(c.get("/console/eoffice/messages/"))
    assert spec.post(f"/console/eoffice/messages/{message.pk}/delete/").status_code == 302
    assert "Báo cáo tuần" not in _text(spec.get("/console/eoffice/messages/")).replace(
        "Re: Báo cáo tuần", "")
    # Someone it was not sent to cannot open it.
    assert browser_of(o.vp_head).get(f"/console/eoffice/messages/{message.pk}/"
                                     ).status_code == 403
    assert browser_of(o.other_clerk).get(f"/console/eoffice/messages/{message.pk}/"
                                         ).status_code == 403


def test_gl_8_2_the_compose_form_names_what_is_wrong(web_office, browser_of) -> None:
    o = web_office
    resp = browser_of(o.spec).post("/console/eoffice/messages/new/", {
        "agency": "sotttt", "subject": "", "body": ""})
    body = _text(resp)
    assert resp.status_code == 400
    assert "Tiêu đề: bắt buộc." in body and "Nội dung: bắt buộc." in body
    resp = browser_of(o.spec).post("/console/eoffice/messages/new/", {
        "agency": "sotttt", "subject": "Hỏi", "body": "?"})
    assert resp.status_code == 400 and "Người nhận: chọn ít nhất một người" in _text(resp)
    assert not Message.objects.exists()


def test_gl_8_2_only_the_office_posts_agency_notices(web_office, browser_of) -> None:
    o = web_office
    refused = browser_of(o.spec).post("/console/eoffice/messages/new/", {
        "agency": "sotttt", "notice": "on", "subject": "Thông báo", "body": "x"})
    assert refused.status_code == 400
    assert "Thông báo của cơ quan do lãnh đạo và Văn phòng" in _text(refused)
    assert "Đăng thành thông báo" not in _text(refused)
    resp = browser_of(o.clerk).post("/console/eoffice/messages/new/", {
        "agency": "sotttt", "notice": "on", "subject": "Lịch nghỉ Tết Nguyên đán",
        "body": "Cơ quan nghỉ Tết từ ngày 14/02 đến hết ngày 22/02."})
    assert resp.status_code == 302
    notices = _text(browser_of(o.spec).get("/console/eoffice/messages/", {"box": "notices"}))
    assert "Lịch nghỉ Tết Nguyên đán" in notices


def test_eoffice_notifications_link_to_the_document_and_are_marked_read(
        web_office, browser_of) -> None:
    o = web_office
    doc = register(o, urgency="khan")
    unread = Notice.objects.filter(recipient=o.director.account, read_at__isnull=True).count()
    assert unread >= 1
    c = browser_of(o.director)
    body = _text(c.get("/console/eoffice/notices/"))
    assert f"Thông báo chưa đọc: {unread}" in body
    assert f'href="/console/eoffice/incoming/{doc.pk}/"' in body
    assert c.post("/console/eoffice/notices/read/", {"all": "1"}).status_code == 302
    assert not Notice.objects.filter(recipient=o.director.account, read_at__isnull=True).exists()
    assert "Thông báo chưa đọc: 0" in _text(c.get("/console/eoffice/notices/"))
    # Nobody marks another's notices.
    theirs = Notice.objects.filter(recipient=o.clerk.account).values_list("pk", flat=True)
    browser_of(o.spec).post("/console/eoffice/notices/read/",
                            {"notice": [str(p) for p in theirs]})
    assert Notice.objects.filter(recipient=o.clerk.account, read_at__isnull=True).count() == len(
        theirs)


def test_people_without_an_eoffice_role_are_refused_the_office_pages(
        web_office, browser_of) -> None:
    from tests.factories import account

    stranger, _otp = account(web_office.p, "stc", "Người Không Vai Trò",
                             dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    from tests.console.conftest import logged_in

    c = logged_in(stranger)
    for url in (CAL, "/console/eoffice/messages/", "/console/eoffice/notices/",
                "/console/eoffice/delegations/", f"{CAL}subscription/"):
        assert c.get(url).status_code == 403, url


# --- delegations (GL-4.5, GL-11) ------------------------------------------------------------


def _local(moment: dt.datetime) -> str:
    return moment.astimezone(TZ).strftime("%Y-%m-%dT%H:%M")


def test_gl_11_request_approve_announce_hold_and_no_redelegation(web_office,
                                                                  browser_of) -> None:
    o = web_office
    now = timezone.now()
    head = browser_of(o.head)
    form = _text(head.get("/console/eoffice/delegations/"))
    assert "Đề nghị ủy quyền" in form and "Lãnh đạo phòng" in form
    resp = head.post("/console/eoffice/delegations/request/", {
        "agency": "sotttt", "delegate": str(o.spec.id), "roles": "department_head",
        "starts_at": _local(now - dt.timedelta(hours=1)),
        "ends_at": _local(now + dt.timedelta(days=3)), "reason": "Đi công tác Hà Nội"})
    assert resp.status_code == 302, _text(resp)
    delegation = Delegation.objects.get()
    director = browser_of(o.director)
    assert f"approve-{delegation.pk}" in _text(director.get("/console/eoffice/delegations/"))
    # A colleague cannot approve it.
    assert browser_of(o.vp_head).post(
        f"/console/eoffice/delegations/{delegation.pk}/approve/").status_code == 403
    assert director.post(f"/console/eoffice/delegations/{delegation.pk}/approve/",
                         {"decision": "approve"}).status_code == 302
    assert head.post(f"/console/eoffice/delegations/{delegation.pk}/announce/"
                     ).status_code == 302
    delegation.refresh_from_db()
    assert delegation.status == DelegationStatus.ANNOUNCED
    spec = browser_of(o.spec)
    held = _text(spec.get("/console/eoffice/delegations/"))
    assert "Đang có hiệu lực" in held and "Đi công tác Hà Nội" in held
    assert "chỉ do được ủy quyền" in held  # the page explains before they try
    # The delegate cannot pass the head's rights on (GL-11): the domain refuses.
    refused = spec.post("/console/eoffice/delegations/request/", {
        "agency": "sotttt", "delegate": str(o.spec2.id), "roles": "department_head",
        "starts_at": _local(now), "ends_at": _local(now + dt.timedelta(days=1))})
    assert refused.status_code == 403
    assert "Quyền được ủy quyền không được ủy quyền lại cho người khác (GL-11)." in _text(
        refused)
    assert Delegation.objects.count() == 1
    # Everyone in the agency was told.
    assert Notice.objects.filter(kind="delegation.announced",
                                 recipient=o.vp_spec.account).exists()
    assert head.post(f"/console/eoffice/delegations/{delegation.pk}/revoke/").status_code == 302
    delegation.refresh_from_db()
    assert delegation.status == DelegationStatus.REVOKED


def test_gl_11_the_request_form_names_what_is_wrong(web_office, browser_of) -> None:
    o = web_office
    resp = browser_of(o.head).post("/console/eoffice/delegations/request/", {
        "agency": "sotttt", "delegate": "", "roles": "", "starts_at": "mai",
        "ends_at": ""})
    body = _text(resp)
    assert resp.status_code == 400
    assert "Ủy quyền cho: bắt buộc." in body or "bắt buộc" in body
    assert "Từ: ghi ngày và giờ" in body
    assert not Delegation.objects.exists()


# --- settings (GL-3.4, GL-12..15) -----------------------------------------------------------


def _it(o: Any) -> Client:
    from tests.console.conftest import logged_in
    from tests.factories import account

    it, _otp = account(o.p, "sotttt", "Trần Quản Trị", dt.datetime(2026, 1, 5, tzinfo=dt.UTC))
    grant(o.p, it.address, "agency-it", "sotttt")
    it.refresh_from_db()
    return logged_in(it)


def test_gl_12_the_it_contact_grants_and_revokes_roles_with_the_picker(web_office) -> None:
    o = web_office
    c = _it(o)
    page = _text(c.get("/console/eoffice/settings/"))
    assert "Thiết lập hệ thống QLVB&ĐH" in page and o.head.account.address in page
    assert "review_span" in page and "congvu.toml" in page  # GL-3.4 parameters, read-only
    found = _text(c.get("/console/eoffice/settings/people/", {"agency": "sotttt",
                                                              "q": "hồ thị viên"}))
    assert f'value="{o.spec2.id}"' in found
    resp = c.post("/console/eoffice/settings/roles/grant/", {
        "agency": "sotttt", "account": str(o.spec2.id), "role": "clerk",
        "department": str(o.vp.pk)})
    assert resp.status_code == 302
    made = OfficeRoleGrant.objects.get(account=o.spec2.account, role="clerk")
    assert made.department_id == o.vp.pk
    resp = c.post("/console/eoffice/settings/roles/grant/", {
        "agency": "sotttt", "account": str(o.spec2.id), "role": "department_head"})
    assert resp.status_code == 400 and "Phòng: bắt buộc đối với lãnh đạo phòng." in _text(resp)
    assert c.post(f"/console/eoffice/settings/roles/{made.pk}/revoke/").status_code == 302
    assert not OfficeRoleGrant.objects.filter(pk=made.pk).exists()


def test_gl_12_symbols_are_set_and_checked(web_office) -> None:
    o = web_office
    c = _it(o)
    assert c.post("/console/eoffice/settings/symbol/", {
        "agency": "sotttt", "unit": str(o.cntt.pk), "symbol": "cntt2"}).status_code == 302
    assert "CNTT2" in _text(c.get("/console/eoffice/settings/"))
    bad = c.post("/console/eoffice/settings/symbol/", {
        "agency": "sotttt", "unit": str(o.cntt.pk), "symbol": "C N/TT"})
    assert bad.status_code == 400 and "Ký hiệu của Phòng Công nghệ thông tin" in _text(bad)


def test_gl_12_a_specialist_cannot_grant_roles(web_office, browser_of) -> None:
    o = web_office
    c = browser_of(o.spec)
    assert c.get("/console/eoffice/settings/").status_code == 403
    resp = c.post("/console/eoffice/settings/roles/grant/", {
        "agency": "sotttt", "account": str(o.spec.id), "role": "director"})
    assert resp.status_code == 403
    assert not OfficeRoleGrant.objects.filter(account=o.spec.account, role="director").exists()


def test_gl_12_an_it_contact_cannot_touch_another_agency(web_office) -> None:
    o = web_office
    c = _it(o)
    assert c.get("/console/eoffice/settings/", {"agency": "stc"}).status_code == 403
    resp = c.post("/console/eoffice/settings/roles/grant/", {
        "agency": "stc", "account": str(o.spec.id), "role": "director"})
    assert resp.status_code == 403
    grant_id = OfficeRoleGrant.objects.get(account=o.other_clerk.account).pk
    assert c.post(f"/console/eoffice/settings/roles/{grant_id}/revoke/").status_code == 403
    assert OfficeRoleGrant.objects.filter(pk=grant_id).exists()


def test_gl_3_4_the_operator_chooses_the_agency_and_sees_the_parameters(web_office) -> None:
    from congvu.accounts.actions import do_create_operator
    from tests.console.conftest import logged_in
    from tests.factories import OPERATOR

    op, _otp = do_create_operator(actor=OPERATOR, profile=web_office.p, local_part="quantri",
                                  now=timezone.now())
    c = logged_in(op)
    first = _text(c.get("/console/eoffice/settings/"))
    assert "Chọn cơ quan" in first and "Sở Tài chính" in first and 'id="grants"' not in first
    page = _text(c.get("/console/eoffice/settings/", {"agency": "stc"}))
    assert web_office.other_clerk.account.address in page
    assert "Tham số hệ thống (GL-3.4)" in page and "review_span" in page
    assert "3 ngày làm việc" in page and "1 ngày làm việc" in page
