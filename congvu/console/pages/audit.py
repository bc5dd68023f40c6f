"""The audit log (operators): filters by actor, action, target, rule ID and date range
(dd/mm/yyyy in the profile's time zone), newest first a page at a time, each event's
data readable; the filtered events as CSV (the export itself is audited). Thin:
``congvu.audit.selectors`` decides who reads and what matches."""

from __future__ import annotations

import csv
import datetime as dt
import json
from collections.abc import Iterator
from typing import Any, cast
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest, HttpResponse, StreamingHttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from congvu import clock, deployment
from congvu.actors import Actor
from congvu.audit.exporting import do_export_events
from congvu.audit.models import AuditEvent
from congvu.audit.selectors import EventFilter, page_of, search
from congvu.clock import start_of_day
from congvu.console.views import console_view, local_time
from congvu.imports.exports import safe_cell

PAGE_SIZE = 50
_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")

#: Plain words for the actions the code records (the code is shown beside them).
ACTION_LABELS: dict[str, Any] = {
    "account.create": gettext_lazy("Account created"),
    "account.activate": gettext_lazy("Account activated"),
    "account.change_password": gettext_lazy("Password changed by the holder"),
    "account.reset_password": gettext_lazy("Password re-issued"),
    "account.password_expired": gettext_lazy("Password expired"),
    "account.suspend": gettext_lazy("Account suspended"),
    "account.restore": gettext_lazy("Account restored"),
    "account.leave": gettext_lazy("Leaving recorded"),
    "account.lock": gettext_lazy("Account locked"),
    "account.delete": gettext_lazy("Account deleted"),
    "account.transfer": gettext_lazy("Transferred to another agency"),
    "account.change_position": gettext_lazy("Position changed"),
    "account.change_address": gettext_lazy("Address changed"),
    "alias.add": gettext_lazy("Alias added"),
    "mailbox.forward": gettext_lazy("Forwarding set"),
    "mailbox.unforward": gettext_lazy("Forwarding removed"),
    "mailbox.delegate": gettext_lazy("Mailbox delegated"),
    "operator.create": gettext_lazy("Operator account created"),
    "agency.add": gettext_lazy("Agency added"),
    "role.grant": gettext_lazy("Role granted"),
    "role.revoke": gettext_lazy("Role revoked"),
    "request.file": gettext_lazy("Request filed"),
    "request.take": gettext_lazy("Request taken"),
    "request.close": gettext_lazy("Request closed"),
    "request.reject": gettext_lazy("Request rejected"),
    "request.cancel": gettext_lazy("Request cancelled"),
    "sso.signin": gettext_lazy("Signed in"),
    "sso.signin_failed": gettext_lazy("Sign-in failed"),
    "sso.signout": gettext_lazy("Signed out"),
    "job.queue": gettext_lazy("Job queued"),
    "job.done": gettext_lazy("Job finished"),
    "job.failed": gettext_lazy("Job failed"),
    "import.upload": gettext_lazy("Import file uploaded"),
    "import.check": gettext_lazy("Import file checked"),
    "import.recheck": gettext_lazy("Import checked again"),
    "import.confirm": gettext_lazy("Import confirmed"),
    "import.write": gettext_lazy("Import written"),
    "import.cancel": gettext_lazy("Import cancelled"),
    "import.passwords": gettext_lazy("Import passwords downloaded"),
    "import.passwords_expired": gettext_lazy("Import passwords deleted unread"),
    "audit.export": gettext_lazy("Audit log exported"),
}

#: Plain words for the keys of events' data.
DATA_LABELS: dict[str, Any] = {
    "agency": gettext_lazy("Agency"), "state": gettext_lazy("State"),
    "leader": gettext_lazy("Leader"), "candidates": gettext_lazy("Candidates"),
    "from_agency": gettext_lazy("From agency"), "to_agency": gettext_lazy("To agency"),
    "old_address": gettext_lazy("Old address"), "to": gettext_lazy("To (new)"),
    "from": gettext_lazy("From (before)"), "keep_copy": gettext_lazy("Keep a copy"),
    "delegate": gettext_lazy("Delegate"), "effective": gettext_lazy("Effective date"),
    "lock_at": gettext_lazy("Lock at"), "delete_at": gettext_lazy("Delete at"),
    "kind": gettext_lazy("Kind"), "file": gettext_lazy("File"),
    "rows": gettext_lazy("Rows"), "valid": gettext_lazy("Without errors"),
    "errors": gettext_lazy("With errors"), "notes": gettext_lazy("With notes"),
    "created": gettext_lazy("Accounts created"), "left_out": gettext_lazy("Left out"),
    "mode": gettext_lazy("Mode"), "import": gettext_lazy("Import"),
    "line": gettext_lazy("Row in the file"), "error": gettext_lazy("Error"),
    "accounts": gettext_lazy("Accounts"), "filters": gettext_lazy("Filters"),
    "role": gettext_lazy("Role"), "failed": gettext_lazy("Failed"),
    "ignored_columns": gettext_lazy("Ignored columns"), "bytes": gettext_lazy("Size (bytes)"),
    "format": gettext_lazy("Format"), "status": gettext_lazy("Status"),
}


def _parse_day(text: str) -> dt.date | None:
    for fmt in _DATE_FORMATS:
        try:
            return dt.datetime.strptime(text.strip(), fmt).date()
        except ValueError:
            continue
    return None


class AuditFilterForm(forms.Form):
    actor = forms.CharField(label=gettext_lazy("Who"), required=False, max_length=200,
                            help_text=gettext_lazy("An address (quantri) or a label "
                                                   "(cli:root, system:lifecycle)."))
    action = forms.CharField(label=gettext_lazy("Action"), required=False, max_length=64,
                             help_text=gettext_lazy("e.g. account.suspend, or account. for "
                                                    "every account action"))
    target = forms.CharField(label=gettext_lazy("Target"), required=False, max_length=320,
                             help_text=gettext_lazy("An address, or import:12, request:3"))
    rule = forms.CharField(label=gettext_lazy("Rule ID"), required=False, max_length=32,
                           help_text=gettext_lazy("e.g. NB-7.2a"))
    since = forms.CharField(label=gettext_lazy("From (dd/mm/yyyy)"), required=False,
                            max_length=10)
    until = forms.CharField(label=gettext_lazy("To (dd/mm/yyyy)"), required=False,
                            max_length=10)

    def _day(self, name: str) -> dt.date | None:
        text = self.cleaned_data.get(name, "").strip()
        if not text:
            return None
        day = _parse_day(text)
        if day is None:
            raise forms.ValidationError(_(
                "“%(value)s” is not a date: write it as dd/mm/yyyy (e.g. 05/09/2026).") % {
                "value": text})
        return day

    def clean_since(self) -> dt.date | None:
        return self._day("since")

    def clean_until(self) -> dt.date | None:
        return self._day("until")

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        since, until = data.get("since"), data.get("until")
        if since and until and until < since:
            self.add_error("until", _("The last day is before the first day (%(since)s).") % {
                "since": since.strftime("%d/%m/%Y")})
        return data

    def event_filter(self, tz: str) -> EventFilter:
        data = self.cleaned_data
        since, until = data.get("since"), data.get("until")
        return EventFilter(
            actor=data.get("actor", ""), action=data.get("action", ""),
            target=data.get("target", ""), rule=data.get("rule", ""),
            since=start_of_day(since, tz) if since else None,
            until=start_of_day(until + dt.timedelta(days=1), tz) if until else None)


def _value(value: Any) -> str:
    if value is None:
        return "—"
    if isinstance(value, bool):
        return _("yes") if value else _("no")
    if isinstance(value, list):
        return ", ".join(_value(v) for v in value) or "—"
    if isinstance(value, dict):
        return json.dumps(value, ensure_ascii=False, sort_keys=True)
    return str(value)


def readable(event: AuditEvent, tz: str) -> dict[str, Any]:
    data = event.data if isinstance(event.data, dict) else {"data": event.data}
    return {"id": event.pk, "at": local_time(event.at, tz), "actor": event.actor,
            "action": event.action,
            "action_label": str(ACTION_LABELS.get(event.action, "")),
            "target": event.target, "rule": event.rule, "reason": event.reason,
            "data": [(str(DATA_LABELS.get(k, k)), k, _value(v)) for k, v in data.items()]}


def _filters(form: AuditFilterForm) -> dict[str, str]:
    return {k: v.strip() for k, v in form.data.items()
            if k in form.fields and isinstance(v, str) and v.strip()}


def _cursor(request: HttpRequest, name: str) -> int | None:
    value = request.GET.get(name, "")
    return int(value) if value.isdigit() else None


@console_view
def audit_log(request: HttpRequest, actor: Actor) -> HttpResponse:
    return _log_page(request, actor)


def _log_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    profile = deployment.deployment_profile()
    actor.require_operator()
    tz = profile.timezone
    form = AuditFilterForm(request.GET)
    page = None
    filters: dict[str, str] = {}
    if form.is_valid():
        filters = _filters(form)
        found = search(actor, form.event_filter(tz), profile.mail.domain)
        page = page_of(found, before=_cursor(request, "before"), after=_cursor(request, "after"),
                       size=PAGE_SIZE)
    context = {
        "form": form, "page": page, "timezone": tz,
        "events": [readable(e, tz) for e in page.events] if page else [],
        "older_url": "?" + urlencode({**filters, "before": page.older})
        if page and page.older else "",
        "newer_url": "?" + urlencode({**filters, "after": page.newer})
        if page and page.newer else "",
        "newest_url": "?" + urlencode(filters),
        "csv_url": "/console/audit/export.csv?" + urlencode(filters),
        "filtered": bool(filters)}
    if request.headers.get("HX-Request") and request.headers.get("HX-Target") == "audit":
        # htmx swaps only 2xx answers: the form's errors come back as a 200 fragment.
        return render(request, "console/audit/_audit.html", context)
    return render(request, "console/audit/log.html", context,
                  status=200 if form.is_valid() else 400)


def _csv_rows(qs: Any, tz: str) -> Iterator[str]:
    class Echo:
        def write(self, value: str) -> str:
            return value

    writer = csv.writer(Echo())
    yield "\ufeff"
    yield writer.writerow([_("Number"), _("Time"), _("Who"), _("Action"), _("Target"),
                           _("Rule ID"), _("Reason"), _("Data")])
    zone = ZoneInfo(tz)
    for e in qs.iterator(chunk_size=2000):
        yield writer.writerow([e.pk, e.at.astimezone(zone).strftime(
            "%d/%m/%Y %H:%M:%S"), safe_cell(e.actor), safe_cell(e.action),
            safe_cell(e.target), safe_cell(e.rule), safe_cell(e.reason),
            safe_cell(json.dumps(e.data, ensure_ascii=False, sort_keys=True))])


@console_view
def audit_export(request: HttpRequest, actor: Actor) -> HttpResponse:
    """Every event the filters match, newest first, as CSV (UTF-8 with a BOM for
    Excel); the export is itself recorded, with its filters."""
    profile = deployment.deployment_profile()
    actor.require_operator()
    form = AuditFilterForm(request.GET)
    if not form.is_valid():
        return _log_page(request, actor)
    now = clock.now()
    qs = do_export_events(actor=actor, wanted=form.event_filter(profile.timezone),
                          filters=_filters(form), domain=profile.mail.domain, now=now)
    rows = (line.encode() for line in _csv_rows(qs, profile.timezone))
    response = StreamingHttpResponse(rows, content_type="text/csv; charset=utf-8")
    stamp = now.astimezone(ZoneInfo(profile.timezone)).strftime("%Y%m%d-%H%M")
    response["Content-Disposition"] = f'attachment; filename="nhat-ky-{stamp}.csv"'
    return cast(HttpResponse, response)  # streamed: console_view passes it through


urlpatterns = [
    path("audit/", audit_log, name="audit"),
    path("audit/export.csv", audit_export, name="audit-export"),
]
