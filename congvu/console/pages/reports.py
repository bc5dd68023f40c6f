"""The reports page: which periodic report is due next and by when, a report chosen by
kind and period shown as tables with SVG charts, and its XLSX or PDF queued for the
tasks worker. Thin: the selectors decide who sees what (operators the province, an
agency's IT contact their own agencies; a forged agency is a 403)."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import path
from django.utils.translation import get_language
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_POST

from congvu import clock, deployment
from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.console.views import console_view, local_time
from congvu.errors import CongvuError
from congvu.profiles import Profile
from congvu.reports.actions import do_queue_report
from congvu.reports.build import (
    REPORT_KINDS,
    build_report,
    default_inactive_days,
    default_period,
    fmt_date,
    format_cell,
)
from congvu.reports.cadence import cadence_of, next_due, previous_period
from congvu.reports.forms import ReportForm
from congvu.reports.model import Report, Table
from congvu.reports.selectors import report_scope, visible_agencies
from congvu.reports.svg import chart_svg


def _today(profile: Profile, now: dt.datetime) -> dt.date:
    return now.astimezone(ZoneInfo(profile.timezone)).date()


def _query(**values: Any) -> str:
    return "?" + urlencode({k: v for k, v in values.items() if v not in ("", None)})


def _due(profile: Profile, today: dt.date, agency: str, days: int) -> dict[str, Any] | None:
    """The periodic report due next (NB-11.7, QN-13.6, KH-11.7) and the one before."""
    try:
        cadence = cadence_of(profile)
    except CongvuError as exc:  # a deployment's bad override: said here, reports still work
        return {"error": exc.message}
    if cadence is None:
        return None
    period = next_due(cadence, today)
    before = previous_period(cadence, period)
    left = period.days_left(today)
    values = {"title": period.title(), "due": fmt_date(period.due), "days": left}
    headline = (_("%(title)s: due today, %(due)s") % values if left == 0
                else _("%(title)s: due %(due)s, %(days)d day(s) left") % values)
    return {
        "headline": headline, "rule": period.rule, "soon": left <= 15,
        "covers": _("It covers %(start)s to %(end)s.") % {
            "start": fmt_date(period.start), "end": fmt_date(period.end)},
        "url": _query(report="usage", start=period.start.isoformat(),
                      end=period.end.isoformat(), agency=agency, days=days),
        "previous": _("%(title)s (%(start)s to %(end)s, was due %(due)s)") % {
            "title": before.title(), "start": fmt_date(before.start),
            "end": fmt_date(before.end), "due": fmt_date(before.due)},
        "previous_url": _query(report="usage", start=before.start.isoformat(),
                               end=before.end.isoformat(), agency=agency, days=days),
    }


def _presets(profile: Profile, today: dt.date, kind: str, agency: str,
             days: int) -> list[dict[str, str]]:
    """Quick periods: this year so far, last year, the last 30 days."""
    year = today.year
    spans = [(_("This year so far"), dt.date(year, 1, 1), today),
             (_("Last year"), dt.date(year - 1, 1, 1), dt.date(year - 1, 12, 31)),
             (_("The last 30 days"), today - dt.timedelta(days=29), today)]
    return [{"label": str(label), "url": _query(report=kind, start=a.isoformat(),
                                                end=b.isoformat(), agency=agency, days=days)}
            for label, a, b in spans]


def _display(table: Table) -> dict[str, Any]:
    """A table with its cells formatted in the reader's language, and its chart."""
    kinds = [c.kind for c in table.columns]

    def cells(values: list[Any]) -> list[dict[str, Any]]:
        return [{"text": format_cell(v, k) if v != "" else "", "num": k != "text"}
                for v, k in zip(values, kinds, strict=True)]

    depths = table.depths or [0] * len(table.rows)
    return {"key": table.key, "caption": table.caption, "note": table.note,
            "columns": table.columns,
            "rows": [{"cells": cells(r), "depth": min(d, 4)}
                     for r, d in zip(table.rows, depths, strict=True)],
            "total": cells(table.total) if table.total else None,
            "chart": chart_svg(table), "chart_title": table.chart.title if table.chart else ""}


def _result(report: Report) -> dict[str, Any]:
    return {"title": report.title, "subject": report.subject, "scope": report.scope,
            "start": fmt_date(report.start), "end": fmt_date(report.end), "rule": report.rule,
            "generated_at": local_time(report.generated_at, report.timezone),
            "facts": [(label, format_cell(value, kind)) for label, value, kind in report.facts],
            "sections": [{"key": s.key, "title": s.title,
                          "tables": [_display(t) for t in s.tables]}
                         for s in report.sections]}


def _raw(form: ReportForm, name: str) -> str:
    """What a field shows: the typed text when bound, else its initial value."""
    value = form[name].value()
    if isinstance(value, dt.date):
        return value.isoformat()
    return "" if value is None else str(value)


def _page(request: HttpRequest, actor: Actor, form: ReportForm, *,
          report: Report | None = None, status: int = 200) -> HttpResponse:
    profile = deployment.deployment_profile()
    now = clock.now()
    today = _today(profile, now)
    agency = form["agency"].value() or ""
    days_value = form["days"].value()
    days = int(days_value) if str(days_value or "").isdigit() else default_inactive_days(profile)
    kind = form["report"].value() or "usage"
    context = {
        "form": form, "kinds": [(k, str(v)) for k, v in REPORT_KINDS.items()],
        "values": {name: _raw(form, name) for name in ("report", "start", "end", "days")},
        "agencies": [(a.account_name, "— " * a.depth + f"{a.name} ({a.account_name})")
                     for a in visible_agencies(actor, profile)],
        "is_operator": actor.is_operator,
        "agency": str(agency), "due": _due(profile, today, str(agency), days),
        "presets": _presets(profile, today, str(kind), str(agency), days),
        "report": _result(report) if report else None,
        "export": form.cleaned_data if report is not None else None,
    }
    partial = request.headers.get("HX-Request") and request.method == "GET"
    return render(request, "console/reports/_body.html" if partial
                  else "console/reports/index.html", context, status=status)


@console_view
@require_http_methods(["GET", "HEAD"])
def reports_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The form, the report due next and, once a report is asked for, its figures."""
    profile = deployment.deployment_profile()
    report_scope(actor, profile)  # 403 for anyone who may not see reports
    now = clock.now()
    if "report" not in request.GET:
        start, end = default_period(profile, _today(profile, now))
        form = ReportForm(initial={"report": "usage", "start": start, "end": end,
                                   "days": default_inactive_days(profile)})
        return _page(request, actor, form)
    data = request.GET.copy()
    if not data.get("days"):
        data["days"] = str(default_inactive_days(profile))
    form = ReportForm(data)
    if not form.is_valid():
        return _page(request, actor, form, status=400)
    report = build_report(actor, profile, form.ask(), now=now, home=deployment.home())
    return _page(request, actor, form, report=report)


@console_view
@require_POST
def export_report(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Queue the report's XLSX or PDF and go to its job page (progress, then the file)."""
    profile = deployment.deployment_profile()
    report_scope(actor, profile)
    form = ReportForm(request.POST)
    if not form.is_valid():
        return _page(request, actor, form, status=400)
    account = request.user if isinstance(request.user, Account) else None
    job = do_queue_report(actor=actor, profile=profile, ask=form.ask(),
                          file_format=request.POST.get("format", ""), now=clock.now(),
                          lang=get_language() or "vi", account=account)
    return HttpResponseRedirect(f"/console/jobs/{job.pk}/", status=303)


urlpatterns = [
    path("reports/", reports_page, name="reports"),
    path("reports/export/", export_report, name="reports-export"),
]
