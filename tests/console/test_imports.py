"""The import pages (issue 6, NB-13 migration): an operator uploads a file, reads the
preview (errors first, filter, pages, downloads), confirms (leaving out the faulty rows
only when told to), downloads the passwords once; every page refuses agency contacts,
civil servants and anonymous visitors, in Vietnamese, and changes nothing for them."""

from __future__ import annotations

import io
from typing import Any

import openpyxl
import pytest
from django.core.files.uploadedfile import SimpleUploadedFile
from django.test import Client

from congvu.accounts.models import Account
from congvu.audit.models import AuditEvent
from congvu.imports.models import ImportRow, ImportStatus, PersonImport
from congvu.jobs.actions import run_pending
from tests.console.conftest import csrf, logged_in
from tests.imports.conftest import csv_bytes, xlsx_bytes

pytestmark = pytest.mark.django_db

FILE = csv_bytes("Họ và tên,Cơ quan/đơn vị,Chức vụ,Ngày sinh",
                 "Phan Văn Hùng,sotttt,Chuyên viên,05/09/1985",
                 "Cúc,stc,,",
                 "Hồ Thị Mai,stc,Kế toán,31/02/1990",
                 "Lê Thị Hoa,ttcntt,,")


def upload(c: Client, data: bytes = FILE, name: str = "danh-sach.csv") -> Any:
    page = c.get("/console/imports/")
    return c.post("/console/imports/", {
        "csrfmiddlewaretoken": csrf(page.content.decode()),
        "file": SimpleUploadedFile(name, data)})


def checked(c: Client, data: bytes = FILE, name: str = "danh-sach.csv") -> PersonImport:
    resp = upload(c, data, name)
    assert resp.status_code == 302, resp.content.decode()[:2000]
    batch = PersonImport.objects.get(pk=int(resp["Location"].rstrip("/").rsplit("/", 1)[1]))
    run_pending()
    batch.refresh_from_db()
    return batch


def post(c: Client, url: str, page_url: str, data: dict[str, str] | None = None) -> Any:
    token = csrf(c.get(page_url).content.decode())
    return c.post(url, {"csrfmiddlewaretoken": token, **(data or {})})


def test_upload_check_preview_confirm_and_passwords_once(world: Any) -> None:
    op = world["op"][0]
    c = logged_in(op)
    page = c.get("/console/imports/").content.decode()
    assert 'enctype="multipart/form-data"' in page and '<label for="id_file">' in page
    assert "Nhập danh sách cán bộ" in page

    resp = upload(c)
    assert resp.status_code == 302
    batch_url = resp["Location"]
    waiting = c.get(batch_url).content.decode()
    assert 'hx-trigger="every 1s"' in waiting and '<meta http-equiv="refresh"' in waiting
    run_pending()
    status = c.get(batch_url + "status/", HTTP_HX_REQUEST="true")
    assert status.status_code == 204 and status["HX-Refresh"] == "true"

    page = c.get(batch_url).content.decode()
    assert "4 dòng: 2 dòng không có lỗi" in page and "2 dòng có lỗi" in page
    # Errors first, each naming the column and the rule, in Vietnamese.
    assert page.index('id="row-3"') < page.index('id="row-2"')
    assert page.index('id="row-4"') < page.index('id="row-5"')
    assert "<strong>Họ và tên</strong>" in page and "QN-4.1" in page
    assert "<strong>Ngày sinh</strong>" in page and "dd/mm/yyyy" in page
    assert "hungpv@quangnam.gov.vn" in page and "hoalt@quangnam.gov.vn" in page
    errors = c.get(batch_url, {"show": "errors"}).content.decode()
    assert "hungpv@" not in errors and 'id="row-3"' in errors
    partial = c.get(batch_url, {"show": "valid"}, HTTP_HX_REQUEST="true",
                    HTTP_HX_TARGET="preview").content.decode()
    assert partial.startswith('<div id="preview">') and "<html" not in partial
    csv_text = c.get(batch_url + "preview.csv").getvalue().decode("utf-8-sig")
    assert csv_text.splitlines()[0].startswith("Dòng,Họ và tên")
    assert len(csv_text.strip().splitlines()) == 5

    # With errors, confirming needs the explicit choice; nothing is written without it.
    before = Account.objects.count()
    resp = post(c, batch_url + "confirm/", batch_url, {"check": page.split(
        'name="check" value="')[1].split('"')[0]})
    assert resp.status_code == 400
    body = resp.content.decode()
    assert 'id="confirm-error"' in body and "Chỉ nhập các dòng không có lỗi" in body
    assert Account.objects.count() == before
    check = body.split('name="check" value="')[1].split('"')[0]
    resp = post(c, batch_url + "confirm/", batch_url, {"check": check, "valid_only": "1"})
    assert resp.status_code == 302
    run_pending()
    page = c.get(batch_url).content.decode()
    assert Account.objects.count() == before + 2
    assert 'id="passwords-download"' in page and "QN-5.3" in page

    resp = post(c, batch_url + "passwords/", batch_url)
    assert resp.status_code == 200 and "no-store" in resp["Cache-Control"]
    book = openpyxl.load_workbook(io.BytesIO(resp.content))
    addresses = {r[3] for r in book.worksheets[0].iter_rows(min_row=2, values_only=True)}
    assert addresses == {"hungpv@quangnam.gov.vn", "hoalt@quangnam.gov.vn"}
    again = post(c, batch_url + "passwords/", batch_url)
    assert again.status_code == 410 and "đã được tải" in again.content.decode()
    assert 'id="passwords-taken"' in c.get(batch_url).content.decode()


def test_form_errors_name_the_field_in_vietnamese(world: Any) -> None:
    c = logged_in(world["op"][0])
    resp = upload(c, b"%PDF-1.4", "scan.pdf")
    body = resp.content.decode()
    assert resp.status_code == 400 and 'id="file-errors"' in body
    assert "Tệp danh sách cán bộ (CSV hoặc XLSX):" in body and "scan.pdf" in body
    batch = checked(c, csv_bytes("Tên,Chức vụ", "Lê Văn Tám,Chuyên viên"))
    page = c.get(f"/console/imports/{batch.pk}/").content.decode()
    assert batch.status == ImportStatus.FAILED and 'id="import-error"' in page
    assert "Tệp thiếu cột" in page and "Họ và tên" in page


def test_an_xlsx_with_every_row_valid_is_confirmed_without_a_choice(world: Any) -> None:
    c = logged_in(world["op"][0])
    batch = checked(c, xlsx_bytes([["Họ tên", "Đơn vị"], ["Lê Thị Hoa", "stc"]]), "ds.xlsx")
    url = f"/console/imports/{batch.pk}/"
    page = c.get(url).content.decode()
    assert 'id="valid_only"' not in page and "Tạo 1 tài khoản" in page
    assert f'href="/console/jobs/{batch.check_job_id}/download/"' in page
    assert post(c, url + "confirm/", url, {"check": str(batch.check_job_id)}).status_code == 302
    run_pending()
    assert Account.objects.filter(address="hoalt@quangnam.gov.vn").exists()
    assert "/console/audit/?target=import%3A" in c.get(url).content.decode()


def test_a_stale_confirm_form_is_refused(world: Any) -> None:
    c = logged_in(world["op"][0])
    batch = checked(c, csv_bytes("Họ tên,Cơ quan", "Lê Thị Hoa,stc"))
    url = f"/console/imports/{batch.pk}/"
    resp = post(c, url + "confirm/", url, {"check": "999999"})
    assert resp.status_code == 409 and not Account.objects.filter(
        address="hoalt@quangnam.gov.vn").exists()


def test_the_job_pages_lead_back_to_the_import_and_english_is_available(world: Any) -> None:
    from django.conf import settings

    c = logged_in(world["op"][0])
    batch = checked(c, csv_bytes("Họ tên,Cơ quan", "Lê Thị Hoa,stc"))
    page = c.get(f"/console/jobs/{batch.check_job_id}/").content.decode()
    assert f'href="/console/imports/{batch.pk}/"' in page
    assert "Mở kết quả kiểm tra của đợt nhập số" in page
    c.cookies[settings.LANGUAGE_COOKIE_NAME] = "en"
    page = c.get(f"/console/imports/{batch.pk}/").content.decode()
    assert "Checked: waiting for confirmation" in page and "Create the accounts (1)" in page


def test_templates_download(world: Any) -> None:
    c = logged_in(world["op"][0])
    text = c.get("/console/imports/mau.csv").content.decode("utf-8-sig")
    assert text.startswith("STT,Họ và tên,Cơ quan/đơn vị")
    book = openpyxl.load_workbook(io.BytesIO(c.get("/console/imports/mau.xlsx").content))
    assert book.active["B1"].value == "Họ và tên"
    assert c.get("/console/imports/mau.pdf").status_code == 404


# ------------------------------------------------------------------ authorisation


def _pages(batch: PersonImport) -> list[str]:
    base = f"/console/imports/{batch.pk}/"
    return ["/console/imports/", base, base + "status/", base + "preview.csv",
            "/console/imports/mau.csv", "/console/imports/mau.xlsx"]


@pytest.mark.parametrize("who", ["it", "servant"])
def test_agency_contacts_and_civil_servants_cannot_read_or_change_an_import(
        world: Any, who: str) -> None:
    op = logged_in(world["op"][0])
    batch = checked(op, FILE)
    url = f"/console/imports/{batch.pk}/"
    assert post(op, url + "confirm/", url, {"check": str(batch.check_job_id),
                                            "valid_only": "1"}).status_code == 302
    run_pending()
    batch.refresh_from_db()
    assert batch.status == ImportStatus.DONE
    c = logged_in(world[who][0])
    for page in _pages(batch):
        resp = c.get(page)
        assert resp.status_code == 403, page
        body = resp.content.decode()
        assert "hungpv@" not in body and "Phan Văn Hùng" not in body, page
        assert "Không có quyền truy cập" in body
    token = csrf(c.get("/console/").content.decode())
    before = (Account.objects.count(), AuditEvent.objects.count())
    for action in ("confirm/", "recheck/", "cancel/", "passwords/"):
        resp = c.post(url + action, {"csrfmiddlewaretoken": token, "valid_only": "1",
                                     "check": str(batch.check_job_id)})
        assert resp.status_code == 403, action
        assert b"PK" not in resp.content[:2]
    resp = c.post("/console/imports/", {"csrfmiddlewaretoken": token,
                                         "file": SimpleUploadedFile("x.csv", FILE)})
    assert resp.status_code == 403
    assert (Account.objects.count(), AuditEvent.objects.count()) == before
    assert PersonImport.objects.count() == 1
    assert PersonImport.objects.get(pk=batch.pk).passwords_waiting  # not spent by them


def test_another_operator_cannot_take_the_passwords(world: Any) -> None:
    from congvu.accounts.actions import do_create_operator
    from tests.factories import OPERATOR

    c = logged_in(world["op"][0])
    batch = checked(c, csv_bytes("Họ tên,Cơ quan", "Lê Thị Hoa,stc"))
    url = f"/console/imports/{batch.pk}/"
    post(c, url + "confirm/", url, {"check": str(batch.check_job_id)})
    run_pending()
    other, _otp = do_create_operator(actor=OPERATOR, profile=world["p"], local_part="qt2",
                                     now=batch.created_at)
    o = logged_in(other)
    page = o.get(url).content.decode()
    assert 'id="passwords-other"' in page and 'id="passwords-download"' not in page
    assert post(o, url + "passwords/", url).status_code == 403
    assert PersonImport.objects.get(pk=batch.pk).passwords_waiting


def test_anonymous_visitors_are_sent_to_sign_in_and_change_nothing(world: Any) -> None:
    c = logged_in(world["op"][0])
    batch = checked(c, csv_bytes("Họ tên,Cơ quan", "Lê Thị Hoa,stc"))
    anon = Client()
    for page in _pages(batch):
        resp = anon.get(page)
        assert resp.status_code == 302 and resp["Location"].startswith("/sso/login/"), page
    for action in ("confirm/", "recheck/", "cancel/", "passwords/"):
        resp = anon.post(f"/console/imports/{batch.pk}/{action}")
        assert resp.status_code in (302, 403), action
    assert PersonImport.objects.get(pk=batch.pk).status == ImportStatus.READY
    assert not ImportRow.objects.filter(batch=batch, address="").exists()
