"""Mailbox-check monitoring (NB-9.2, KH-10): per account of the actor's agencies, the
checks of each working day of a period (default: the last five working days), days
below the profile's minimum flagged, agency mailboxes apart from personal ones; the same
as a CSV file. Thin: :mod:`congvu.mail.monitoring` decides who sees what."""

from __future__ import annotations

import datetime as dt
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.core.paginator import Paginator
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import path
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_POST

from congvu import clock, deployment
from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.console.views import console_view, local_date, pager_urls
from congvu.directory.models import Agency
from congvu.directory.selectors import agency_subtree_ids
from congvu.errors import CongvuError
from congvu.jobs.actions import do_enqueue
from congvu.mail.checks import AGENCY, PERSONAL, check_rules, same_check_within
from congvu.mail.monitoring import (
    CheckRow,
    CheckTable,
    Period,
    check_rows,
    check_tables,
    checks_csv,
    checks_file_name,
    default_period,
    period,
)
from congvu.profiles import Profile
from congvu.workdays import WorkCalendar, calendar_for

#: Accounts per page of each table.
PAGE_SIZE = 100
#: Up to this many mailboxes the CSV file is written at once; more go to the worker.
DIRECT_ROWS = 3000
CHECKS_JOB = "mail.checks_csv"
CSV_TYPE = "text/csv; charset=utf-8"
DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y"]
WEEKDAYS = (gettext_lazy("Mon"), gettext_lazy("Tue"), gettext_lazy("Wed"),
            gettext_lazy("Thu"), gettext_lazy("Fri"), gettext_lazy("Sat"),
            gettext_lazy("Sun"))


class PeriodForm(forms.Form):
    """The filters (a GET form). ``agency`` is passed to the selector as typed: a value
    outside the actor's agencies is refused there (403), not hidden here."""

    agency = forms.CharField(required=False, max_length=64, label=gettext_lazy("Agency"))
    start = forms.DateField(
        required=False, input_formats=DATE_FORMATS, label=gettext_lazy("From"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy(
            "From: not a date; write it as dd/mm/yyyy, e.g. 05/01/2026.")})
    end = forms.DateField(
        required=False, input_formats=DATE_FORMATS, label=gettext_lazy("To"),
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={"invalid": gettext_lazy(
            "To: not a date; write it as dd/mm/yyyy, e.g. 09/01/2026.")})
    below = forms.BooleanField(required=False,
                               label=gettext_lazy("Only mailboxes below the minimum"))

    def __init__(self, *args: Any, calendar: WorkCalendar, today: dt.date,
                 agencies: list[Agency] | None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.calendar, self.today = calendar, today
        self.period: Period | None = None
        if agencies is not None:  # an agency's people choose among their own
            choices = [("", _("All my agencies"))] + [
                (a.account_name, f"{a.name} ({a.account_name})") for a in agencies]
            self.fields["agency"].widget = forms.Select(choices=choices)
        else:
            self.fields["agency"].widget.attrs.update(
                {"placeholder": _("every agency"), "autocomplete": "off"})
            self.fields["agency"].help_text = _("The agency's account name, e.g. sotttt; "
                                                "empty: every agency.")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        if self.errors:
            return data
        start, end = data.get("start"), data.get("end")
        if start is None and end is None:
            self.period = default_period(self.calendar, self.today)
            return data
        end = end or self.today
        start = start or end
        try:
            self.period = period(self.calendar, start, end, self.today)
        except CongvuError as exc:
            # The message says what is wrong; the label says which field to change.
            name = "end" if end < start or end > self.today else "start"
            self.add_error(name, f"{self.fields[name].label}: {exc.message}")
        return data


def _agency_choices(actor: Actor) -> list[Agency] | None:
    if actor.is_operator:
        return None
    return list(Agency.objects.filter(pk__in=agency_subtree_ids(actor.request_scope))
                .order_by("account_name"))


def _form(request: HttpRequest, actor: Actor, profile: Profile,
          source: QueryDict | None = None) -> PeriodForm:
    calendar = calendar_for(profile)
    today = clock.now().astimezone(calendar.zone).date()
    given = request.GET if source is None else source
    data = given if any(k in given for k in ("agency", "start", "end", "below")) else None
    form = PeriodForm(data, calendar=calendar, today=today, agencies=_agency_choices(actor))
    if data is None:
        form.period = default_period(calendar, today)
    else:
        form.is_valid()
    return form


def _day_label(day: dt.date) -> str:
    return f"{WEEKDAYS[day.weekday()]} {day.strftime('%d/%m')}"


def _rule_text(profile: Profile) -> dict[str, str]:
    texts = {}
    for kind, rule in check_rules(profile).items():
        if rule.regulated:
            texts[kind] = _("at least %(n)d checks per working day (%(rule)s)") % {
                "n": rule.minimum, "rule": rule.rule}
        else:
            texts[kind] = _("no minimum in the profile of %(province)s") % {
                "province": profile.province}
    return texts


def _table_context(request: HttpRequest, table: CheckTable, per: Period, tz: str,
                   page_param: str, query: dict[str, str]) -> dict[str, Any]:
    total, below = table.totals()
    paginator = Paginator(table.accounts, PAGE_SIZE)
    paginator.count = total  # known already: one query fewer
    page = paginator.get_page(request.GET.get(page_param))
    rows: list[CheckRow] = check_rows(table, per, list(page.object_list), tz)

    def page_url(number: int) -> str:
        return "?" + urlencode({**query, page_param: number})

    return {"kind": table.kind, "rule": table.rule, "rows": rows, "page": page,
            "total": total, "below": below,
            **pager_urls(page, page_url)}


def _query(form: PeriodForm) -> dict[str, str]:
    """The filters as GET parameters (for the pages and the CSV link)."""
    if form.period is None:
        return {}
    data = form.cleaned_data if form.is_bound and form.is_valid() else {}
    out = {"start": form.period.start.isoformat(), "end": form.period.end.isoformat()}
    if data.get("agency"):
        out["agency"] = data["agency"]
    if data.get("below"):
        out["below"] = "1"
    return out


@console_view
def monitoring(request: HttpRequest, actor: Actor) -> HttpResponse:
    """NB-9.2, KH-10: the checks of the actor's agencies' mailboxes per working day."""
    profile = deployment.deployment_profile()
    form = _form(request, actor, profile)
    rules = check_rules(profile)
    context: dict[str, Any] = {
        "form": form, "rules": rules, "rule_texts": _rule_text(profile),
        "regulated": any(r.regulated for r in rules.values()), "province": profile.province,
        "same_check_minutes": int(same_check_within(profile).total_seconds() // 60),
        "is_operator": actor.is_operator, "timezone": profile.timezone}
    if form.period is None:  # a filter to fix: the form with its errors, nothing else
        check_tables(actor, profile, default_period(form.calendar, form.today))  # 403 first
        return render(request, "console/monitoring/checks.html", context, status=400)
    per = form.period
    data = form.cleaned_data if form.is_bound else {}
    tables = check_tables(actor, profile, per, agency_ref=data.get("agency") or None,
                          below_only=bool(data.get("below")))
    query = _query(form)
    context.update({
        "period": per, "start": local_date(per.start), "end": local_date(per.end),
        "days": [{"label": _day_label(d), "iso": d.isoformat(), "today": d == per.today}
                 for d in per.days],
        "agency_table": _table_context(request, tables[AGENCY], per, profile.timezone,
                                       "apage", query),
        "personal_table": _table_context(request, tables[PERSONAL], per, profile.timezone,
                                         "page", query),
        "download": query})
    return render(request, "console/monitoring/checks.html", context)


def _download(request: HttpRequest, actor: Actor, profile: Profile, form: PeriodForm,
              tables: dict[str, CheckTable]) -> HttpResponse:
    """A small file at once; a large one (an operator's whole province) is written by
    the tasks worker, its page showing the progress and then the file."""
    assert form.period is not None
    per = form.period
    total = sum(t.accounts.count() for t in tables.values())
    if total <= DIRECT_ROWS:
        response = HttpResponse(checks_csv(tables, per, profile.timezone),
                                content_type=CSV_TYPE)
        response["Content-Disposition"] = f'attachment; filename="{checks_file_name(per)}"'
        return response
    account = request.user if isinstance(request.user, Account) else None
    job = do_enqueue(actor=actor, kind=CHECKS_JOB, now=clock.now(), account=account, params={
        **_query(form), "today": form.today.isoformat(), "lang": get_language() or "vi"})
    return HttpResponseRedirect(f"/console/jobs/{job.pk}/")


@console_view
@require_POST
def monitoring_csv(request: HttpRequest, actor: Actor) -> HttpResponse:
    """The same rows as the page, every one of them, as a CSV file (UTF-8)."""
    profile = deployment.deployment_profile()
    form = _form(request, actor, profile, request.POST)
    if form.period is None:
        check_tables(actor, profile, default_period(form.calendar, form.today))  # 403 first
        raise CongvuError("; ".join(str(e) for errors in form.errors.values()
                                    for e in errors))
    data = form.cleaned_data if form.is_bound else {}
    tables = check_tables(actor, profile, form.period, agency_ref=data.get("agency") or None,
                          below_only=bool(data.get("below")))
    return _download(request, actor, profile, form, tables)


urlpatterns = [
    path("monitoring/", monitoring, name="monitoring"),
    path("monitoring/csv/", monitoring_csv, name="monitoring-csv"),
]
