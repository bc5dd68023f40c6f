"""The console's report form: which report, which period, which agency, the inactivity
threshold. Every error names the field and says what is expected in plain words. The
agency is free text on purpose: whether the reader may see it is the selectors' answer
(403), not a silent "invalid choice"."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django import forms
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from congvu.reports.build import MAX_DAYS, REPORT_KINDS, ReportAsk

DATE_FORMATS = ["%Y-%m-%d", "%d/%m/%Y", "%d-%m-%Y"]


class ReportForm(forms.Form):
    report = forms.ChoiceField(
        label=gettext_lazy("Report"), choices=list(REPORT_KINDS.items()),
        error_messages={
            "required": gettext_lazy("Report: choose one of the reports in the list."),
            "invalid_choice": gettext_lazy("Report: choose one of the reports in the list.")})
    start = forms.DateField(
        label=gettext_lazy("From"), input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("From: enter the first day of the period."),
            "invalid": gettext_lazy("From: enter a date such as 16/12/2025.")})
    end = forms.DateField(
        label=gettext_lazy("To"), input_formats=DATE_FORMATS,
        widget=forms.DateInput(attrs={"type": "date"}, format="%Y-%m-%d"),
        error_messages={
            "required": gettext_lazy("To: enter the last day of the period."),
            "invalid": gettext_lazy("To: enter a date such as 15/12/2026.")})
    agency = forms.CharField(label=gettext_lazy("Agency"), required=False, max_length=64)
    days = forms.IntegerField(
        label=gettext_lazy("Not used for (days)"), min_value=1, max_value=3650,
        error_messages={
            "required": gettext_lazy("Not used for (days): enter a number of days, e.g. 90."),
            "invalid": gettext_lazy("Not used for (days): enter a whole number of days, "
                                    "e.g. 90."),
            "min_value": gettext_lazy("Not used for (days): at least 1 day."),
            "max_value": gettext_lazy("Not used for (days): at most 3650 days (ten years).")})

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        start: dt.date | None = data.get("start")
        end: dt.date | None = data.get("end")
        if start and end:
            if end < start:
                self.add_error("end", _("To: the last day (%(end)s) is before the first day "
                                        "(%(start)s) of the period.") % {
                    "end": end.strftime("%d/%m/%Y"), "start": start.strftime("%d/%m/%Y")})
            elif (end - start).days >= MAX_DAYS:
                self.add_error("end", _("To: a report covers at most five years; choose a "
                                        "shorter period."))
        return data

    def ask(self) -> ReportAsk:
        data = self.cleaned_data
        return ReportAsk(kind=data["report"], start=data["start"], end=data["end"],
                         agency=(data.get("agency") or "").strip().lower(), days=data["days"])
