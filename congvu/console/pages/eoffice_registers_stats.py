"""The processing statistics page (GL-13, GL-15): per department and per person for a
period, with an XLSX export (the reports' workbook layout). Who reads what is decided by
:func:`congvu.eoffice.statistics.processing_statistics`."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from congvu import clock, deployment
from congvu.actors import Actor
from congvu.console.pages.eoffice_registers_common import DateRange, agency_choice
from congvu.console.views import console_view
from congvu.directory.models import Agency
from congvu.eoffice.models import LEADERS, OfficeRole
from congvu.eoffice.statistics import RULE, Counts, Statistics, processing_statistics
from congvu.reports.model import Column, Report, Section, Table
from congvu.reports.xlsx import CONTENT_TYPE, report_xlsx


class StatisticsForm(DateRange):
    department = forms.IntegerField(label=gettext_lazy("Department"), required=False)


def _counts_labels() -> list[str]:
    return [_("Received"), _("Processed on time"), _("Processed late"),
            _("Overdue (open)"), _("Pending (within the deadline)")]


def _load(request: HttpRequest, actor: Actor) -> tuple[StatisticsForm, dict[str, Any]]:
    now = clock.now()
    profile = deployment.deployment_profile()
    agency, agencies = agency_choice(
        request.GET, actor, now, (OfficeRole.CLERK, *LEADERS, OfficeRole.DEPARTMENT_HEAD),
        _("Only the agency's leaders and clerks, and heads of department for their "
          "department, read the processing statistics."))
    form = StatisticsForm(request.GET)
    ctx: dict[str, Any] = {"agency": agency, "agencies": agencies, "profile": profile,
                           "form": form, "stats": None}
    if form.is_valid():
        today = now.astimezone(ZoneInfo(profile.timezone)).date()
        start = form.cleaned_data["date_from"] or dt.date(today.year, 1, 1)
        end = form.cleaned_data["date_to"] or today
        ctx["stats"] = processing_statistics(
            actor, now, agency_id=agency.pk, start=start, end=end,
            department_id=form.cleaned_data["department"], tz=profile.timezone)
        ctx.update(start=start, end=end, now=now)
    return form, ctx


@console_view
@require_safe
def statistics_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    form, ctx = _load(request, actor)
    stats: Statistics | None = ctx["stats"]
    units = list(Agency.objects.filter(parent=ctx["agency"]).order_by("name")
                 .values_list("pk", "name"))
    if stats is not None and stats.departments_scope is not None:
        units = [(pk, name) for pk, name in units if pk in stats.departments_scope]
    keep = {k: v for k, v in request.GET.items() if v}
    keep["agency"] = ctx["agency"].pk
    return render(request, "console/eoffice/statistics/index.html", {
        **ctx, "labels": _counts_labels(), "units": units, "export": urlencode(keep),
        "department_rows": [(r.label, r.counts.as_tuple()) for r in stats.departments]
        if stats else [],
        "person_rows": [(r.label, r.unit, r.counts.as_tuple()) for r in stats.people]
        if stats else [],
        "total": stats.total.as_tuple() if stats else (),
    }, status=200 if form.is_valid() else 400)


def _table(key: str, name: str, caption: str, first: list[Column],
           rows: list[tuple[list[Any], Counts]], total: Counts | None = None) -> Table:
    columns = [*first, *[Column(label) for label in _counts_labels()]]
    return Table(key=key, name=name, caption=caption, columns=columns,
                 rows=[[*cells, *counts.as_tuple()] for cells, counts in rows],
                 total=([_("Total"), *([""] * (len(first) - 1)), *total.as_tuple()]
                        if total else None))


@console_view
@require_safe
def statistics_xlsx(request: HttpRequest, actor: Actor) -> HttpResponse:
    form, ctx = _load(request, actor)
    stats: Statistics | None = ctx["stats"]
    if stats is None:
        errors = "; ".join(str(e) for errs in form.errors.values() for e in errs)
        return render(request, "console/error.html", {
            "title": _("The request cannot be shown"), "message": errors, "status": 400},
            status=400)
    profile = ctx["profile"]
    agency: Agency = ctx["agency"]
    report = Report(
        kind="eoffice", title=_("Document processing statistics"),
        subject=_("Processing of incoming documents"), province=profile.province,
        scope=agency.name, issuer=agency.name, start=stats.start, end=stats.end,
        generated_at=ctx["now"], timezone=profile.timezone, rule=RULE,
        facts=[(label, value, "int") for label, value in
               zip(_counts_labels(), stats.total.as_tuple(), strict=True)],
        sections=[Section("figures", _("Processing"), [
            _table("departments", _("Departments"), _("By department"),
                   [Column(_("Department"), "text")],
                   [([r.label], r.counts) for r in stats.departments]),
            _table("people", _("People"), _("By person"),
                   [Column(_("Person"), "text"), Column(_("Department"), "text")],
                   [([r.label, r.unit], r.counts) for r in stats.people]),
        ])])
    response = HttpResponse(report_xlsx(report), content_type=CONTENT_TYPE)
    name = f"thong-ke-xu-ly-{agency.account_name}-{stats.start:%Y%m%d}-{stats.end:%Y%m%d}"
    response["Content-Disposition"] = f'attachment; filename="{name}.xlsx"'
    return response


urlpatterns = [
    path("eoffice/statistics/", statistics_page, name="eoffice-statistics"),
    path("eoffice/statistics/statistics.xlsx", statistics_xlsx, name="eoffice-statistics-xlsx"),
]
