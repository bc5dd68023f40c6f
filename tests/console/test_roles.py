"""The roles pages (issue 6, operators only): the list with filters, granting operator,
agency-it or clerk (an agency for the last two), revoking; the last active operator
cannot be revoked and the page says so; every change audited. Nobody else can read the
page or post to it."""

from __future__ import annotations

import re
from typing import Any

import pytest
from django.test import Client
from django.utils import timezone

from congvu.accounts.models import Account, RoleGrant
from congvu.audit.models import AuditEvent
from tests.console.conftest import csrf, logged_in
from tests.factories import account, grant

pytestmark = pytest.mark.django_db

DENIED = "Không có quyền truy cập"
URL = "/console/roles/"


def _post(c: Client, url: str, data: dict[str, str], page: str = URL) -> Any:
    return c.post(url, {"csrfmiddlewaretoken": csrf(c.get(page).content.decode()), **data})


def _held(html: str) -> set[tuple[str, str]]:
    rows = re.findall(r'<tr id="grant-\d+">(.*?)</tr>', html, re.S)
    out = set()
    for row in rows:
        address = re.search(r'<a href="[^"]+">([^<]+)</a>', row).group(1)  # type: ignore[union-attr]
        role = re.search(r'name="role" value="([^"]+)"', row).group(1)  # type: ignore[union-attr]
        out.add((address, role))
    return out


def _grants() -> set[tuple[str, str, str | None]]:
    return {(g.account.address, g.role, g.agency.account_name if g.agency else None)
            for g in RoleGrant.objects.select_related("account", "agency")}


def test_the_operator_lists_roles_with_filters(world: Any) -> None:
    op, it = world["op"][0], world["it"][0]
    c = logged_in(op)
    resp = c.get(URL)
    assert resp.status_code == 200
    html = resp.content.decode()
    assert _held(html) == {(op.address, "operator"), (it.address, "agency-it")}
    assert "Cán bộ phụ trách CNTT" in html and "Quản trị viên" in html
    assert '<label for="id_address">' in html and '<label for="id_agency">' in html
    assert _held(c.get(URL, {"role": "agency-it"}).content.decode()) == {
        (it.address, "agency-it")}
    assert _held(c.get(URL, {"agency": "stc"}).content.decode()) == set()
    assert _held(c.get(URL, {"agency": "sotttt"}).content.decode()) == {
        (it.address, "agency-it")}
    assert c.get(URL, {"role": "boss"}).status_code == 400


def test_grant_agency_it_and_clerk_then_revoke(world: Any) -> None:
    op, servant = world["op"][0], world["servant"][0]
    c = logged_in(op)
    resp = _post(c, f"{URL}grant/", {"address": servant.address, "role": "agency-it",
                                     "agency": "stc"})
    assert resp.status_code == 302 and resp["Location"] == URL
    assert (servant.address, "agency-it", "stc") in _grants()
    html = c.get(URL).content.decode()
    assert f"{servant.address} đã được giao vai trò Cán bộ phụ trách CNTT" in html
    event = AuditEvent.objects.filter(action="role.grant", target=servant.address).last()
    assert event is not None and event.actor == f"operator:{op.address}"
    assert event.data == {"role": "agency-it", "agency": "stc"}
    # The short form of the address works too.
    assert _post(c, f"{URL}grant/", {"address": "cucpt", "role": "clerk",
                                     "agency": "stc"}).status_code == 302
    assert (servant.address, "clerk", "stc") in _grants()
    resp = _post(c, f"{URL}revoke/", {"address": servant.address, "role": "agency-it",
                                      "agency": "stc"})
    assert resp.status_code == 302
    assert (servant.address, "agency-it", "stc") not in _grants()
    assert "không còn giữ vai trò" in c.get(URL).content.decode()
    assert AuditEvent.objects.filter(action="role.revoke", target=servant.address).exists()


def test_grant_errors_name_the_field_and_write_nothing(world: Any) -> None:
    servant = world["servant"][0]
    c = logged_in(world["op"][0])
    before, events = _grants(), AuditEvent.objects.count()
    for data, words in (
            ({"address": servant.address, "role": "agency-it", "agency": ""},
             "Cơ quan: bắt buộc với vai trò Cán bộ phụ trách CNTT"),
            ({"address": servant.address, "role": "operator", "agency": "stc"},
             "Cơ quan: để trống; vai trò quản trị viên áp dụng toàn tỉnh."),
            ({"address": "khongco@quangnam.gov.vn", "role": "clerk", "agency": "stc"},
             "Địa chỉ tài khoản:"),
            ({"address": servant.address, "role": "clerk", "agency": "khongco"},
             "Cơ quan:"),
            ({"address": servant.address, "role": "civil-servant", "agency": ""},
             "Vai trò: chọn quản trị viên, cán bộ phụ trách CNTT hoặc văn thư."),
            ({"address": "", "role": "", "agency": ""}, "Địa chỉ tài khoản: bắt buộc")):
        resp = _post(c, f"{URL}grant/", data)
        assert resp.status_code == 400, data
        html = resp.content.decode()
        assert words in html, (data, words)
        assert 'class="errorlist"' in html
    assert _grants() == before and AuditEvent.objects.count() == events


def test_the_last_active_operator_cannot_be_revoked(world: Any) -> None:
    op = world["op"][0]
    c = logged_in(op)
    resp = _post(c, f"{URL}revoke/", {"address": op.address, "role": "operator",
                                      "agency": ""})
    assert resp.status_code == 400
    html = resp.content.decode()
    assert "quản trị viên cuối cùng đang hoạt động" in html and 'id="error"' in html
    op.refresh_from_db()
    assert op.is_operator
    # With a second operator, the first can be revoked.
    other, _otp = account(world["p"], "sotttt", "Võ Văn Kiệt", timezone.now())
    assert _post(c, f"{URL}grant/", {"address": other.address, "role": "operator",
                                     "agency": ""}).status_code == 302
    other.refresh_from_db()
    assert other.is_operator
    assert _post(c, f"{URL}revoke/", {"address": other.address, "role": "operator",
                                      "agency": ""}).status_code == 302
    other.refresh_from_db()
    assert not other.is_operator


@pytest.mark.parametrize("who", ["it", "clerk", "servant"])
def test_nobody_but_an_operator_reads_or_changes_roles(world: Any, who: str) -> None:
    p = world["p"]
    if who == "clerk":
        person, _otp = account(p, "sotttt", "Đỗ Thị Lan", timezone.now())
        grant(p, person.address, "clerk", "sotttt")
    else:
        person = world[who][0]
    c = logged_in(person)
    resp = c.get(URL)
    assert resp.status_code == 403 and DENIED in resp.content.decode()
    assert "Sở Tài chính" not in resp.content.decode()
    before, events = _grants(), AuditEvent.objects.count()
    # Granting oneself the operator role, or another agency's role, by posting the form.
    for data in ({"address": person.address, "role": "operator", "agency": ""},
                 {"address": person.address, "role": "agency-it", "agency": "stc"}):
        assert _post(c, f"{URL}grant/", data, "/console/").status_code == 403
    it = world["it"][0]
    assert _post(c, f"{URL}revoke/", {"address": it.address, "role": "agency-it",
                                      "agency": "sotttt"}, "/console/").status_code == 403
    assert _grants() == before and AuditEvent.objects.count() == events
    assert not Account.objects.get(pk=person.pk).is_operator


def test_anonymous_visitors_are_sent_to_sign_in(world: Any) -> None:
    for path in (URL, f"{URL}grant/", f"{URL}revoke/"):
        resp = Client().get(path)
        assert resp.status_code == 302 and resp["Location"].startswith("/sso/login/")
    before = _grants()
    Client().post(f"{URL}grant/", {"address": world["servant"][0].address,
                                   "role": "operator"})
    assert _grants() == before
