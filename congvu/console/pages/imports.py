"""Bulk import of persons (NB-13 migration, onboarding an agency): upload a CSV or XLSX
file, watch its check, read the preview (every row's address or errors), confirm, watch
the write, download the one-time passwords once. Thin: ``congvu.imports`` decides and
refuses; operators only."""

from __future__ import annotations

import io
from typing import Any, cast
from urllib.parse import quote, urlencode

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import redirect, render
from django.urls import path
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from congvu import clock, deployment
from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.console.views import console_view, local_time, pager_urls
from congvu.errors import CongvuError, NotFound
from congvu.imports import exports
from congvu.imports.actions import (
    do_cancel_import,
    do_confirm_import,
    do_recheck_import,
    do_start_import,
    do_take_passwords,
)
from congvu.imports.columns import COLUMNS
from congvu.imports.models import ImportMode, ImportStatus, PersonImport
from congvu.imports.selectors import SHOWS, import_for, import_rows, imports_for
from congvu.jobs.actions import MAX_SOURCE_BYTES
from congvu.jobs.models import Job
from congvu.jobs.selectors import job_for

#: Rows per page of the preview, imports per page of the list.
PAGE_SIZE = 50
LIST_SIZE = 20
_EXTENSIONS = (".csv", ".txt", ".xlsx")
XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


class UploadForm(forms.Form):
    file = forms.FileField(
        label=gettext_lazy("File of persons (CSV or XLSX)"),
        help_text=gettext_lazy("One person a row, under a header row naming the columns."))

    def clean_file(self) -> Any:
        upload = self.cleaned_data["file"]
        name = (upload.name or "").lower()
        if not name.endswith(_EXTENSIONS):
            raise forms.ValidationError(_(
                "Choose a .xlsx workbook or a .csv file (CSV UTF-8); “%(name)s” is neither.")
                % {"name": upload.name})
        if upload.size > MAX_SOURCE_BYTES:
            raise forms.ValidationError(_("The file is too large (%(size)d MB; at most %(max)d "
                                          "MB): split it into several files.") % {
                "size": upload.size // (1024 * 1024), "max": MAX_SOURCE_BYTES // (1024 * 1024)})
        if not upload.size:
            raise forms.ValidationError(_("The file is empty."))
        return upload


def _account(request: HttpRequest) -> Account | None:
    return request.user if isinstance(request.user, Account) else None


def _batch_row(batch: PersonImport, tz: str) -> dict[str, Any]:
    return {"id": batch.pk, "file": batch.file_name, "status": batch.get_status_display(),
            "status_code": batch.status, "at": local_time(batch.created_at, tz),
            "by": batch.created_by_label, "rows": batch.total_rows, "errors": batch.error_rows,
            "created": batch.created_rows}


@console_view
def import_list(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The upload form and the recent imports."""
    profile = deployment.deployment_profile()
    qs = imports_for(actor)
    form = UploadForm(request.POST or None, request.FILES or None)
    if request.method == "POST" and form.is_valid():
        upload = form.cleaned_data["file"]
        try:
            batch = do_start_import(actor=actor, profile=profile, data=upload.read(),
                                    file_name=upload.name or "", now=clock.now(),
                                    account=_account(request), language=get_language())
        except CongvuError as exc:
            form.add_error("file", exc.message)
        else:
            return redirect(f"/console/imports/{batch.pk}/")
    page = Paginator(qs, LIST_SIZE).get_page(request.GET.get("page"))
    return render(request, "console/imports/list.html", {
        "form": form, "page": page, "columns": COLUMNS,
        "imports": [_batch_row(b, profile.timezone) for b in page.object_list],
        "max_mb": MAX_SOURCE_BYTES // (1024 * 1024), "timezone": profile.timezone,
        "previous_url": f"?page={page.previous_page_number()}" if page.has_previous() else "",
        "next_url": f"?page={page.next_page_number()}" if page.has_next() else ""},
        status=400 if request.method == "POST" else 200)


def _running_job(actor: Actor, batch: PersonImport) -> Job | None:
    job_id = (batch.check_job_id if batch.status == ImportStatus.CHECKING
              else batch.write_job_id if batch.status == ImportStatus.WRITING else None)
    return job_for(actor, job_id) if job_id else None


def _show(request: HttpRequest) -> str:
    show = request.GET.get("show", "all")
    return show if show in SHOWS else "all"


def _page_context(request: HttpRequest, actor: Actor, batch: PersonImport,
                  **extra: Any) -> dict[str, Any]:
    profile = deployment.deployment_profile()
    tz = profile.timezone
    show = _show(request)
    page = Paginator(import_rows(actor, batch, show), PAGE_SIZE).get_page(
        request.GET.get("page"))

    def page_url(number: int) -> str:
        return "?" + urlencode({"show": show, "page": number})

    account = _account(request)
    return {
        "batch": batch, "job": _running_job(actor, batch), "show": show, "page": page,
        "rows": [_preview_row(r) for r in page.object_list],
        "shows": [("all", _("All rows (errors first)")), ("errors", _("Errors only")),
                  ("notes", _("Rows with notes")), ("valid", _("Rows without errors"))],
        "created_at": local_time(batch.created_at, tz),
        "checked_at": local_time(batch.checked_at, tz),
        "confirmed_at": local_time(batch.confirmed_at, tz),
        "finished_at": local_time(batch.finished_at, tz),
        "taken_at": local_time(batch.passwords_taken_at, tz),
        "expire_at": local_time(batch.passwords_expire_at, tz),
        "may_take_passwords": batch.passwords_waiting and account is not None
        and batch.passwords_for_id == account.pk,
        "rule": profile.password.change_first_login_rule,
        "domain": profile.mail.domain, "timezone": tz,
        **pager_urls(page, page_url),
        "csv_url": f"/console/imports/{batch.pk}/preview.csv?" + urlencode({"show": show}),
        "in_progress": batch.status in (ImportStatus.CHECKING, ImportStatus.WRITING),
        "confirmable": batch.status == ImportStatus.READY and batch.valid_rows > 0,
        **extra}


def _preview_row(row: Any) -> dict[str, Any]:
    return {"line": row.line, "full_name": row.full_name, "agency": row.agency,
            "agency_name": row.agency_name, "department": row.department,
            "position": row.position, "birth_date": row.birth_date,
            "old_address": row.old_address, "wanted_address": row.wanted_address,
            "address": row.address, "rule": row.rule,
            "others": list(row.candidates[1:]),
            "errors": [{**e, "field_label": exports.field_label(e.get("field", ""))}
                       for e in row.errors],
            "notes": [{**n, "field_label": exports.field_label(n.get("field", ""))}
                      for n in row.notes]}


@console_view
def import_page(request: HttpRequest, actor: Actor, batch_id: int) -> HttpResponse:
    batch = import_for(actor, batch_id)
    context = _page_context(request, actor, batch)
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "preview":
        return render(request, "console/imports/_rows.html", context)
    return render(request, "console/imports/import.html", context)


@console_view
def import_status(request: HttpRequest, actor: Actor, batch_id: int) -> HttpResponse:
    """The progress fragment htmx polls; once the job is over, the whole page reloads."""
    batch = import_for(actor, batch_id)
    job = _running_job(actor, batch)
    if job is None or job.finished:
        response = HttpResponse(status=204)
        response["HX-Refresh"] = "true"
        return response
    return render(request, "console/imports/_progress.html", {"batch": batch, "job": job})


def _rerender(request: HttpRequest, actor: Actor, batch_id: int, status: int,
              **extra: Any) -> HttpResponse:
    batch = import_for(actor, batch_id)
    return render(request, "console/imports/import.html",
                  _page_context(request, actor, batch, **extra), status=status)


@require_POST
@console_view
def import_confirm(request: HttpRequest, actor: Actor, batch_id: int) -> HttpResponse:
    batch = import_for(actor, batch_id)
    if request.POST.get("check") != str(batch.check_job_id or ""):
        return _rerender(request, actor, batch_id, 409, confirm_error=_(
            "The preview changed since this page was shown (the file was checked again); "
            "read it again before confirming."))
    mode = ImportMode.VALID if request.POST.get("valid_only") == "1" else ImportMode.ALL
    try:
        do_confirm_import(actor=actor, batch_id=batch_id, mode=mode, now=clock.now(),
                          account=_account(request), language=get_language())
    except CongvuError as exc:
        return _rerender(request, actor, batch_id, 400, confirm_error=exc.message)
    return redirect(f"/console/imports/{batch_id}/")


@require_POST
@console_view
def import_recheck(request: HttpRequest, actor: Actor, batch_id: int) -> HttpResponse:
    do_recheck_import(actor=actor, batch_id=batch_id, now=clock.now(),
                      account=_account(request), language=get_language())
    return redirect(f"/console/imports/{batch_id}/")


@require_POST
@console_view
def import_cancel(request: HttpRequest, actor: Actor, batch_id: int) -> HttpResponse:
    do_cancel_import(actor=actor, batch_id=batch_id, now=clock.now())
    return redirect("/console/imports/")


def _attachment(data: bytes, name: str, content_type: str) -> HttpResponse:
    response = HttpResponse(data, content_type=content_type)
    response["Content-Disposition"] = (f'attachment; filename="{name}"; '
                                       f"filename*=UTF-8''{quote(name)}")
    return response


@require_POST
@console_view
def import_passwords(request: HttpRequest, actor: Actor, batch_id: int) -> HttpResponse:
    """The passwords file, once (a POST: a link prefetcher must not spend it)."""
    try:
        name, data = do_take_passwords(actor=actor, batch_id=batch_id, now=clock.now())
    except CongvuError as exc:
        if exc.__class__ is not CongvuError:
            raise
        return _rerender(request, actor, batch_id, 410, passwords_error=exc.message)
    return _attachment(data, name, XLSX)  # console_view adds no-store


@console_view
def import_preview_csv(request: HttpRequest, actor: Actor, batch_id: int) -> HttpResponse:
    batch = import_for(actor, batch_id)
    rows = import_rows(actor, batch, _show(request)).iterator(chunk_size=2000)
    response = StreamingHttpResponse(exports.preview_csv(rows),
                                     content_type="text/csv; charset=utf-8")
    name = f"kiem-tra-nhap-{batch.pk}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return cast(HttpResponse, response)  # streamed: console_view passes it through


@console_view
def import_template(request: HttpRequest, actor: Actor, fmt: str) -> HttpResponse:
    """An empty file with the Vietnamese headers and one example row."""
    actor.require_operator()
    if fmt not in ("csv", "xlsx"):
        raise NotFound(_("No such template."))
    header = ["STT", "Họ và tên", "Cơ quan/đơn vị", "Phòng/ban", "Chức vụ", "Ngày sinh",
              "Lãnh đạo", "Địa chỉ cũ", "Địa chỉ mong muốn"]
    example = ["1", "Nguyễn Văn Nam", "sotttt", "", "Chuyên viên", "05/09/1985", "", "", ""]
    if fmt == "xlsx":
        import openpyxl

        book = openpyxl.Workbook()
        sheet = book.active
        sheet.title = "Danh sách"
        sheet.append(header)
        sheet.append(example)
        out = io.BytesIO()
        book.save(out)
        return _attachment(out.getvalue(), "mau-nhap-danh-sach.xlsx", XLSX)
    text = "\ufeff" + ",".join(header) + "\r\n" + ",".join(example) + "\r\n"
    return _attachment(text.encode(), "mau-nhap-danh-sach.csv", "text/csv; charset=utf-8")


urlpatterns = [
    path("imports/", import_list, name="imports"),
    path("imports/mau.<str:fmt>", import_template, name="import-template"),
    path("imports/<int:batch_id>/", import_page, name="import"),
    path("imports/<int:batch_id>/status/", import_status, name="import-status"),
    path("imports/<int:batch_id>/confirm/", import_confirm, name="import-confirm"),
    path("imports/<int:batch_id>/recheck/", import_recheck, name="import-recheck"),
    path("imports/<int:batch_id>/cancel/", import_cancel, name="import-cancel"),
    path("imports/<int:batch_id>/passwords/", import_passwords, name="import-passwords"),
    path("imports/<int:batch_id>/preview.csv", import_preview_csv, name="import-preview-csv"),
]
