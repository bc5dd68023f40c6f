"""The operator's processing screen (issue 6): one request on one page, naming
suggestions with the collision rule and its ID (QN-4.1, QN-4.2), take, fulfil all or
some rows with the operator's addresses (checked before anything is written), refuse a
row, reject; one-time passwords shown once on a page nobody caches. Nobody but an
operator can open or post to it."""

from __future__ import annotations

import html as html_lib
import re
from typing import Any

import pytest
from django.contrib.auth.hashers import check_password
from django.test import Client
from django.utils import timezone

from congvu.accounts.models import Account
from congvu.audit.models import AuditEvent
from congvu.requests.filing import PersonRow, RequestForm
from congvu.requests.models import ServiceRequest
from tests.console.conftest import csrf, file_request, logged_in
from tests.factories import account, grant

pytestmark = pytest.mark.django_db

DENIED = "Không có quyền truy cập"


def _url(req: ServiceRequest) -> str:
    return f"/console/requests/{req.pk}/process/"


def _post(c: Client, url: str, data: dict[str, Any], page: str) -> Any:
    token = csrf(c.get(page).content.decode()) if page else "x"
    return c.post(url, {"csrfmiddlewaretoken": token, **data})


def _state(req: ServiceRequest) -> tuple[Any, ...]:
    req.refresh_from_db()
    return (req.status, req.taken_by_label, req.status_reason,
            tuple(req.items.values_list("status", "result_address")))


def _otps(html: str) -> dict[int, str]:
    return {int(n): html_lib.unescape(v)
            for n, v in re.findall(r'id="otp-(\d+)">([^<]+)<', html)}


@pytest.fixture
def namesakes(world: Any) -> ServiceRequest:
    """Form 01 with a person whose address is taken and two namesakes in one request."""
    return file_request(world["p"], "new_mailboxes", "sotttt", timezone.now(), RequestForm(
        requester_name="Trần Văn An", requester_position="Chuyên viên",
        requester_phone="0235 3812 345",
        persons=(PersonRow("Nguyễn Văn Nam", position="Chuyên viên"),
                 PersonRow("Đặng Thị Hà", position="Kế toán"),
                 PersonRow("Đặng Thị Hà", position="Văn thư"))))


def test_the_screen_shows_the_request_its_deadline_and_overdue_flag(world: Any) -> None:
    older = world["older"]
    c = logged_in(world["op"][0])
    resp = c.get(_url(older))
    assert resp.status_code == 200
    html = resp.content.decode()
    assert "Xử lý yêu cầu số" in html and 'id="overdue"' in html and "Quá hạn" in html
    assert "QN-5.2" in html and "Trung tâm CNTT" in html
    assert "Phan Văn Hùng" in html and "hungpv@quangnam.gov.vn" in html
    assert "Áp dụng quy định đặt địa chỉ QN-4.1" in html
    assert '<label for="select-1"' in html and '<label for="other-1">' in html
    assert "<caption" in html and ' style="' not in html
    fresh = c.get(_url(world["fresh"])).content.decode()
    assert 'id="overdue"' not in fresh


def test_collisions_name_the_rule_and_its_id(world: Any, namesakes: ServiceRequest) -> None:
    html = logged_in(world["op"][0]).get(_url(namesakes)).content.decode()
    assert "namnv đã có → namnv1 theo QN-4.2" in html
    assert 'value="namnv1" checked' in html
    # Two namesakes in one request: the first keeps the base, the second is numbered.
    assert "hadt dành cho dòng 2 của yêu cầu này → hadt1 theo QN-4.2" in html
    assert 'name="address-2" id="address-2-1" value="hadt" checked' in html


def test_take_then_a_second_take_is_refused_on_the_page(world: Any) -> None:
    fresh = world["fresh"]
    c = logged_in(world["op"][0])
    resp = _post(c, f"{_url(fresh)}take/", {}, _url(fresh))
    assert resp.status_code == 302 and resp["Location"] == _url(fresh)
    fresh.refresh_from_db()
    assert fresh.status == "in_progress"
    assert fresh.taken_by_label == f"operator:{world['op'][0].address}"
    assert AuditEvent.objects.filter(action="request.take", target=fresh.target).exists()
    html = c.get(_url(fresh)).content.decode()
    assert "Bạn đã nhận xử lý yêu cầu" in html and 'id="take"' not in html
    resp = _post(c, f"{_url(fresh)}take/", {}, _url(fresh))
    assert resp.status_code == 400 and 'id="error"' in resp.content.decode()


def test_a_bad_address_is_shown_on_its_row_and_nothing_is_written(
        world: Any, namesakes: ServiceRequest) -> None:
    c = logged_in(world["op"][0])
    url = _url(namesakes)
    before = _state(namesakes)
    accounts = Account.objects.count()
    events = AuditEvent.objects.count()
    for data, row, words in (
            ({"rows": ["1", "2", "3"], "other-2": "Đặng Hà"}, 2,
             "Dòng 2, địa chỉ: Tên địa chỉ"),
            ({"rows": ["1", "2", "3"], "other-3": "cucpt"}, 3,
             "Dòng 3, địa chỉ: Địa chỉ cucpt@quangnam.gov.vn"),
            ({"rows": ["1", "2", "3"], "other-1": "ha.dang@gmail.com"}, 1,
             "Dòng 1, địa chỉ:"),
            ({"rows": ["2", "3"], "address-2": "hadt1", "address-3": "hadt1"}, 3,
             "đã được chọn cho dòng 2")):
        resp = _post(c, f"{url}fulfil/", data, url)
        assert resp.status_code == 400, data
        html = resp.content.decode()
        assert "Chưa thực hiện gì" in html
        problem = re.search(rf'id="problem-{row}" role="alert">([^<]+)<', html)
        assert problem is not None and words in html_lib.unescape(problem.group(1)), html
        assert 'aria-invalid="true"' in html
    # What the operator typed stays in the form.
    assert 'value="cucpt"' in _post(c, f"{url}fulfil/", {"rows": ["3"], "other-3": "cucpt"},
                                    url).content.decode()
    assert "(quy định QN-4.2)" in html_lib.unescape(_post(
        c, f"{url}fulfil/", {"rows": ["3"], "other-3": "cucpt"}, url).content.decode())
    assert _state(namesakes) == before
    assert Account.objects.count() == accounts and AuditEvent.objects.count() == events


def test_fulfil_some_rows_shows_the_passwords_once_and_keeps_the_rest_open(
        world: Any, namesakes: ServiceRequest) -> None:
    c = logged_in(world["op"][0])
    url = _url(namesakes)
    resp = _post(c, f"{url}fulfil/", {"rows": ["1", "2"], "address-1": "namnv3",
                                      "address-2": "hadt"}, url)
    assert resp.status_code == 200 and "no-store" in resp["Cache-Control"]
    html = resp.content.decode()
    otps = _otps(html)
    assert set(otps) == {1, 2}
    nam = Account.objects.get(address="namnv3@quangnam.gov.vn")
    ha = Account.objects.get(address="hadt@quangnam.gov.vn")
    assert check_password(otps[1], nam.password) and check_password(otps[2], ha.password)
    assert "Bàn giao tài khoản thư điện tử công vụ" in html and "QN-5.3" in html
    namesakes.refresh_from_db()
    assert namesakes.status == "in_progress"
    items = dict(namesakes.items.values_list("number", "rule"))
    assert items == {1: "QN-4.2", 2: "QN-4.1", 3: ""}
    # Never stored: not in the audit log, not on the request's pages afterwards.
    for event in AuditEvent.objects.all():
        for otp in otps.values():
            assert otp not in str(event.data) and otp not in event.reason
    again = c.get(url).content.decode()
    assert all(otp not in again for otp in otps.values())
    assert 'value="hadt1" checked' in again  # the last row, still open
    resp = _post(c, f"{url}fulfil/", {"rows": ["3"]}, url)
    assert set(_otps(resp.content.decode())) == {3}
    namesakes.refresh_from_db()
    assert namesakes.status == "done"
    assert AuditEvent.objects.filter(action="request.close", target=namesakes.target).exists()
    assert 'id="fulfil"' not in c.get(url).content.decode()


def test_a_password_reissue_row_gives_a_one_time_password(world: Any) -> None:
    oldest = world["oldest"]
    c = logged_in(world["op"][0])
    resp = _post(c, f"{_url(oldest)}fulfil/", {"rows": ["1"]}, _url(oldest))
    otps = _otps(resp.content.decode())
    nam = Account.objects.get(address="namnv@quangnam.gov.vn")
    assert check_password(otps[1], nam.password) and nam.must_change_password
    oldest.refresh_from_db()
    assert oldest.status == "done"


def test_rows_that_are_not_waiting_are_refused(world: Any, namesakes: ServiceRequest) -> None:
    c = logged_in(world["op"][0])
    url = _url(namesakes)
    resp = _post(c, f"{url}fulfil/", {}, url)
    assert resp.status_code == 400 and "hãy đánh dấu ít nhất một dòng" in \
        resp.content.decode()
    resp = _post(c, f"{url}fulfil/", {"rows": ["9"]}, url)
    assert resp.status_code == 400 and "dòng 9 không còn chờ thực hiện" in \
        resp.content.decode()
    assert namesakes.items.filter(status="pending").count() == 3


def test_refuse_a_row_and_reject_the_rest_with_a_reason(world: Any,
                                                       namesakes: ServiceRequest) -> None:
    c = logged_in(world["op"][0])
    url = _url(namesakes)
    resp = _post(c, f"{url}refuse/", {"number": "3", "refuse_reason": ""}, url)
    assert resp.status_code == 400 and "Lý do từ chối: bắt buộc" in resp.content.decode()
    resp = _post(c, f"{url}refuse/", {"number": "3",
                                      "refuse_reason": "Trùng với dòng 2"}, url)
    assert resp.status_code == 302
    assert namesakes.items.get(number=3).status == "refused"
    resp = _post(c, f"{url}reject/", {"reason": " "}, url)
    assert resp.status_code == 400
    assert "Lý do từ chối yêu cầu: bắt buộc" in resp.content.decode()
    assert namesakes.items.filter(status="pending").count() == 2
    resp = _post(c, f"{url}reject/", {"reason": "Thiếu quyết định tuyển dụng"}, url)
    assert resp.status_code == 302
    namesakes.refresh_from_db()
    assert namesakes.status == "rejected"
    assert namesakes.status_reason == "Thiếu quyết định tuyển dụng"
    html = c.get(url).content.decode()
    assert "Thiếu quyết định tuyển dụng" in html and 'id="reject"' not in html


@pytest.mark.parametrize("who", ["it", "clerk", "servant"])
def test_nobody_but_an_operator_opens_or_posts_to_the_screen(world: Any, who: str) -> None:
    p = world["p"]
    if who == "clerk":
        person, _otp = account(p, "sotttt", "Đỗ Thị Lan", timezone.now())
        grant(p, person.address, "clerk", "sotttt")
    else:
        person = world[who][0]
    c = logged_in(person)
    for req in (world["fresh"], world["foreign"]):
        url = _url(req)
        before = _state(req)
        resp = c.get(url)
        assert resp.status_code == 403 and DENIED in resp.content.decode()
        if req is world["foreign"]:
            assert "Võ Thị Hoa Sen" not in resp.content.decode()
        for action, data in (("take", {}), ("fulfil", {"rows": ["1"], "other-1": "x"}),
                             ("refuse", {"number": "1", "refuse_reason": "x"}),
                             ("reject", {"reason": "x"})):
            resp = _post(c, f"{url}{action}/", data, "/console/")
            assert resp.status_code == 403, (who, action)
            assert "Võ Thị Hoa Sen" not in resp.content.decode()
        assert _state(req) == before
    assert not AuditEvent.objects.filter(action__startswith="request.",
                                         actor__contains=person.address).exists()


def test_anonymous_visitors_are_sent_to_sign_in(world: Any) -> None:
    url = _url(world["fresh"])
    for path in (url, f"{url}take/", f"{url}fulfil/"):
        resp = Client().get(path)
        assert resp.status_code == 302 and resp["Location"].startswith("/sso/login/")
    resp = Client().post(f"{url}take/")
    assert resp.status_code in (302, 403)
    world["fresh"].refresh_from_db()
    assert world["fresh"].status == "filed"
    assert logged_in(world["op"][0]).get("/console/requests/999999/process/").status_code \
        == 404
