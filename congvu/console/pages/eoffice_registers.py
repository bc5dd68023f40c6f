"""eOffice pages (issue 7): the registers (sổ đăng ký văn bản đến / đi, Decree 30 Phụ lục
IV) with their filters and keyset paging, printed as A4 landscape PDF and XLSX; the
search and the statistics (``eoffice_registers_search``, ``eoffice_registers_stats``)
are included here. Paths under ``/console/eoffice/``.

Who reads a register is the selector's decision (the agency's clerks and leaders;
classified rows masked for a deputy's or delegated seat); the page only parses the
filters and renders."""

from __future__ import annotations

from html import escape
from typing import Any
from urllib.parse import urlencode
from zoneinfo import ZoneInfo

from django import forms
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect, QueryDict
from django.shortcuts import render
from django.urls import URLPattern, URLResolver, include, path
from django.utils.safestring import mark_safe
from django.utils.translation import get_language, gettext_lazy
from django.utils.translation import gettext as _
from django.views.decorators.http import require_http_methods, require_safe

from congvu import clock, deployment
from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.console.jobs import FILE_JOB
from congvu.console.pages.eoffice_registers_common import (
    DateRange,
    agency_choice,
    options,
    type_choices,
    year_field,
)
from congvu.console.views import console_view
from congvu.directory.models import Agency
from congvu.eoffice import register_export, rules, selectors
from congvu.eoffice.models import LEADERS, OfficeRole
from congvu.eoffice.selectors import IncomingRow, OutgoingRow, RegisterFilters
from congvu.errors import CongvuError, NotFound
from congvu.jobs.actions import do_enqueue
from congvu.jobs.registry import Progress

PAGE_SIZE = 50
KINDS = ("incoming", "outgoing")
#: A register file up to this many rows is built while the reader waits (a few
#: seconds); a larger one by the tasks worker (``FILE_JOB``, ``congvu/console/jobs.py``).
INLINE_ROWS = 5_000
#: The outgoing registers' series (the incoming register has one).
OUT_SERIES = [s for s in rules.Series if s != rules.Series.INCOMING]


class RegisterForm(DateRange):
    year = year_field()
    series = forms.ChoiceField(label=gettext_lazy("Series"), required=False,
                               choices=[(s.value, s.label) for s in OUT_SERIES])
    type = forms.CharField(label=gettext_lazy("Type"), required=False, max_length=40)
    urgency = forms.ChoiceField(label=gettext_lazy("Urgency"), required=False,
                                choices=[("", gettext_lazy("All")), *rules.Urgency.choices])
    confidentiality = forms.ChoiceField(
        label=gettext_lazy("Confidentiality"), required=False,
        choices=[("", gettext_lazy("All")), *rules.Confidentiality.choices])
    q = forms.CharField(label=gettext_lazy("Issuer, number or summary"), required=False,
                        max_length=200)
    after = forms.IntegerField(required=False, min_value=0)

    def clean_type(self) -> str:
        value = (self.cleaned_data.get("type") or "").strip()
        if value:
            try:
                return rules.doc_type(value, incoming=True).key
            except Exception:
                raise forms.ValidationError(
                    _("Type: %(value)s is not a Decree 30 document type.") % {
                        "value": value}) from None
        return value


def _filters(data: dict[str, Any], limit: int = PAGE_SIZE) -> RegisterFilters:
    return RegisterFilters(
        date_from=data.get("date_from"), date_to=data.get("date_to"),
        doc_type=data.get("type") or "", urgency=data.get("urgency") or "",
        confidentiality=data.get("confidentiality") or "", text=data.get("q") or "",
        series=data.get("series") or "", after=data.get("after") or 0, limit=limit)


def _register(query: QueryDict, actor: Actor, kind: str
              ) -> tuple[RegisterForm, dict[str, Any]]:
    """The form and the common context: the agency, its year, the filters' query."""
    now = clock.now()
    profile = deployment.deployment_profile()
    agency, agencies = agency_choice(
        query, actor, now, (OfficeRole.CLERK, *LEADERS),
        _("Only the agency's clerks and leaders read its registers."))
    form = RegisterForm(query)
    form.is_valid()
    data = form.cleaned_data if hasattr(form, "cleaned_data") else {}
    year = data.get("year") or now.astimezone(ZoneInfo(profile.timezone)).year
    series = data.get("series") or rules.Series.GENERAL
    keep = {k: v for k, v in query.items() if k not in ("after", "kind") and v}
    return form, {"now": now, "profile": profile, "agency": agency, "agencies": agencies,
                  "year": year, "series": series, "kind": kind, "data": data, "keep": keep}


def _title(kind: str, series: str) -> str:
    if kind == "incoming":
        return _("Register of incoming documents")
    if series == rules.Series.GENERAL:
        return _("Register of outgoing documents")
    return _("Register of outgoing documents: %(series)s") % {
        "series": str(rules.Series(series).label).lower()}


def _rows(actor: Actor, ctx: dict[str, Any], filters: RegisterFilters
          ) -> list[IncomingRow] | list[OutgoingRow]:
    agency: Agency = ctx["agency"]
    tz = ctx["profile"].timezone
    if ctx["kind"] == "incoming":
        return selectors.incoming_register(actor, ctx["now"], agency_id=agency.pk,
                                           year=ctx["year"], tz=tz, filters=filters)
    return selectors.outgoing_register(actor, ctx["now"], agency_id=agency.pk,
                                       year=ctx["year"], series=ctx["series"], tz=tz,
                                       filters=filters)


@console_view
@require_safe
def register_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    kind = request.GET.get("kind", "incoming")
    kind = kind if kind in KINDS else "incoming"
    form, ctx = _register(request.GET, actor, kind)
    status = 200 if form.is_valid() else 400
    rows: list[Any] = []
    if status == 200:
        rows = _rows(actor, ctx, _filters(ctx["data"], PAGE_SIZE + 1))
    more = len(rows) > PAGE_SIZE
    rows = rows[:PAGE_SIZE]
    keep = {**ctx["keep"], "kind": kind}
    next_url = ""
    if more and rows:
        last = rows[-1]
        after = (last.number if isinstance(last, IncomingRow)
                 else register_export.number_of(last.number_text))
        next_url = "?" + urlencode({**keep, "after": after})
    export = urlencode({**ctx["keep"], "year": ctx["year"], "agency": ctx["agency"].pk,
                        **({"series": ctx["series"]} if kind == "outgoing" else {})})
    columns, _widths = register_export.columns_for(kind)
    return render(request, "console/eoffice/registers/index.html", {
        **ctx, "form": form, "rows": [_row_html(r.columns()) for r in rows],
        "columns": columns, "title": _title(kind, ctx["series"]),
        "first_url": "?" + urlencode(keep) if ctx["data"].get("after") else "",
        "next_url": next_url, "export": export, "series_choices": OUT_SERIES,
        "type_options": options(type_choices(incoming=kind == "incoming"),
                                ctx["data"].get("type") or ""),
        "urgency_options": options(form.fields["urgency"].choices,  # type: ignore[attr-defined]
                                   ctx["data"].get("urgency") or ""),
        "secret_options": options(
            form.fields["confidentiality"].choices,  # type: ignore[attr-defined]
            ctx["data"].get("confidentiality") or ""),
        "kinds": [("incoming", _("Incoming documents")), ("outgoing", _("Outgoing documents"))],
    }, status=status)


def _row_html(cells: tuple[str, ...]) -> str:
    """One register row, built here rather than in the template: a page has fifty rows
    of ten cells, and the template engine's per-tag cost dominated the page's time."""
    # html.escape: Django's escape/format_html cost ten times more per cell.
    return mark_safe(  # noqa: S308 - every cell is escaped
        f'<tr><th scope="row">{escape(cells[0])}</th>'
        + "".join(f"<td>{escape(c)}</td>" for c in cells[1:]) + "</tr>")


def _describe(data: dict[str, Any]) -> str:
    """The filters as printed under the register's title."""
    parts = []
    if data.get("date_from"):
        parts.append(_("from %(day)s") % {"day": data["date_from"].strftime("%d/%m/%Y")})
    if data.get("date_to"):
        parts.append(_("to %(day)s") % {"day": data["date_to"].strftime("%d/%m/%Y")})
    if data.get("type"):
        parts.append(rules.doc_type(data["type"], incoming=True).name)
    if data.get("urgency"):
        parts.append(rules.URGENCY_WORDS[data["urgency"]])
    if data.get("confidentiality"):
        parts.append(str(rules.Confidentiality(data["confidentiality"]).label))
    if data.get("q"):
        parts.append(f"“{data['q']}”")
    return "; ".join(parts)


def _valid_register(query: QueryDict, actor: Actor, kind: str) -> dict[str, Any]:
    """:func:`_register`'s context, or a :class:`CongvuError` naming the bad filters."""
    form, ctx = _register(query, actor, kind)
    if not form.is_valid():
        raise CongvuError("; ".join(str(e) for errs in form.errors.values() for e in errs))
    return ctx


def register_file_for(actor: Actor, kind: str, fmt: str, query: QueryDict, *, limit: int,
                      progress: Progress | None = None) -> tuple[bytes, str, str, int]:
    """The register as a file: (content, content type, file name, rows). Raises
    :class:`register_export.TooManyRows` past ``limit`` rows, a :class:`CongvuError`
    naming the bad filters, Forbidden for a reader who may not read the register."""
    ctx = _valid_register(query, actor, kind)
    data = {**ctx["data"], "after": 0}
    agency: Agency = ctx["agency"]
    tz = ctx["profile"].timezone
    reading, writing = _("Reading the register"), _("Writing the file")
    if progress:
        # The register's counter is the year's row count before filters: a fair total.
        progress.start(selectors.register_size(agency.pk, ctx["year"], kind, ctx["series"]),
                       reading)

    def read(done: int) -> None:
        if progress:
            progress.advance(done, reading)

    if kind == "incoming":
        rows = register_export.incoming_rows(actor, ctx["now"], agency_id=agency.pk,
                                             year=ctx["year"], filters=_filters(data), tz=tz,
                                             limit=limit, read=read)
    else:
        rows = register_export.outgoing_rows(actor, ctx["now"], agency_id=agency.pk,
                                             year=ctx["year"], series=ctx["series"],
                                             filters=_filters(data), tz=tz, limit=limit,
                                             read=read)
    if progress:
        progress.start(len(rows), writing)
    parent = (agency.parent.name if agency.parent_id and agency.parent else
              _("%(province)s Provincial People's Committee") % {
                  "province": ctx["profile"].province})
    printed = register_export.printed(
        kind=kind, parent=parent, agency=agency.name, title=_title(kind, ctx["series"]),
        subtitle=_("Year %(year)s") % {"year": ctx["year"]}, filters=_describe(data),
        rows=rows, now=ctx["now"], tz=tz)
    name = f"so-{'den' if kind == 'incoming' else 'di'}-{agency.account_name}-{ctx['year']}"
    if fmt == "pdf":
        body, content_type = register_export.register_pdf(printed), register_export.PDF_TYPE
    else:
        body, content_type = register_export.register_xlsx(printed), register_export.XLSX_TYPE
    return body, content_type, f"{name}.{fmt}", len(rows)


@console_view
@require_http_methods(["GET", "HEAD", "POST"])
def register_file(request: HttpRequest, actor: Actor, kind: str, fmt: str) -> HttpResponse:
    """``incoming.pdf``, ``incoming.xlsx``, ``outgoing.pdf``, ``outgoing.xlsx``: at once
    up to :data:`INLINE_ROWS` rows; a larger register is offered to the tasks worker (a
    POST here queues it, and its page shows the progress, then the file)."""
    if kind not in KINDS or fmt not in ("pdf", "xlsx"):
        raise NotFound(_("There is no such register file."))
    if request.method == "POST":
        _valid_register(request.GET, actor, kind)  # refused now, not in the job
        account = request.user if isinstance(request.user, Account) else None
        job = do_enqueue(actor=actor, kind=FILE_JOB, now=clock.now(), account=account,
                         params={"kind": kind, "fmt": fmt, "query": request.GET.urlencode(),
                                 "lang": get_language() or "vi"})
        return HttpResponseRedirect(f"/console/jobs/{job.pk}/")
    try:
        body, content_type, name, _count = register_file_for(actor, kind, fmt, request.GET,
                                                             limit=INLINE_ROWS)
    except register_export.TooManyRows:
        return render(request, "console/eoffice/registers/large.html", {
            "inline_rows": INLINE_ROWS, "title": _title(kind, request.GET.get("series") or
                                                        rules.Series.GENERAL),
            "fmt": fmt.upper(), "action": request.get_full_path(),
            "back": "/console/eoffice/registers/?" + urlencode(
                {k: v for k, v in request.GET.items() if v})})
    response = HttpResponse(body, content_type=content_type)
    disposition = "inline" if fmt == "pdf" else "attachment"
    response["Content-Disposition"] = f'{disposition}; filename="{name}"'
    return response


urlpatterns: list[URLPattern | URLResolver] = [
    path("eoffice/registers/", register_page, name="eoffice-registers"),
    path("eoffice/registers/<str:kind>.<str:fmt>", register_file,
         name="eoffice-register-file"),
    path("", include("congvu.console.pages.eoffice_registers_search")),
    path("", include("congvu.console.pages.eoffice_registers_stats")),
]
