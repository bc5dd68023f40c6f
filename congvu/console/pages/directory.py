"""The province directory (issue 6; NB-10.1d, KH-11.5): every signed-in person searches
the province's official addresses by name, position, agency or address, without
diacritics or capitals ("nguyen van a" finds "Nguyễn Văn A"), optionally within one
agency and its units. The search itself is :mod:`congvu.directory.search` (a folded,
indexed key); this page is thin. As the person types, htmx asks for the results only
(a partial); without JavaScript the same GET form loads the whole page."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote, urlencode

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.html import format_html, format_html_join
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from congvu.actors import Actor
from congvu.console.views import console_view
from congvu.directory.models import Agency
from congvu.directory.search import (
    COUNT_CAP,
    MAX_QUERY_WORDS,
    agency_mailboxes,
    directory_rows,
    matching_ids,
    parse_query,
)
from congvu.directory.selectors import agency_subtree_ids

#: Persons per page.
PAGE_SIZE = 50
#: Agency mailboxes shown above the persons (the first page only): a search naming an
#: agency shows its own address first; a broad one is told to narrow down.
AGENCY_MAILBOXES_SHOWN = 10


class DirectoryForm(forms.Form):
    q = forms.CharField(
        label=gettext_lazy("Name, position, agency or address"), required=False,
        max_length=200,
        help_text=gettext_lazy("Diacritics and capitals do not matter: “nguyen van a” finds "
                               "“Nguyễn Văn A”."),
        error_messages={"max_length": gettext_lazy(
            "Search text: at most %(limit_value)d characters (you typed %(show_value)d).")})
    agency = forms.CharField(label=gettext_lazy("Agency or unit"), required=False,
                             max_length=64)

    def clean_agency(self) -> Agency | None:
        ref = (self.cleaned_data.get("agency") or "").strip().lower()
        if not ref:
            return None
        found = Agency.objects.select_related("parent").filter(account_name=ref).first()
        if found is None:
            raise forms.ValidationError(
                _("Agency or unit: there is no agency %(ref)s in the province; choose one "
                  "from the list.") % {"ref": ref})
        return found


def _agency_choices(selected: Agency | None) -> list[dict[str, Any]]:
    """The filter's options: the province's top-level agencies (sở, ban, ngành, UBND …);
    a unit chosen from the results joins the list under its agency."""
    tops = list(Agency.objects.filter(parent__isnull=True).order_by("name")
                .values_list("account_name", "name"))
    options: list[dict[str, Any]] = [{"value": ref, "label": name, "depth": 0}
                                     for ref, name in tops]
    if selected is not None and selected.parent_id is not None:
        chain = list(reversed(selected.ancestors()))  # top first
        at = next((i for i, o in enumerate(options) if o["value"] == chain[0].account_name),
                  len(options) - 1)
        options[at + 1:at + 1] = [{"value": a.account_name, "label": a.name, "depth": depth}
                                  for depth, a in enumerate(chain[1:], start=1)]
    for option in options:
        option["indent"] = "— " * option["depth"]
    return options


def _person_row(row: dict[str, Any]) -> dict[str, Any]:
    """One table row, built here rather than in the template: a page has fifty and the
    template engine's per-tag cost was a third of the page's time."""
    units = [{"name": row[f"{node}__name"], "ref": row[f"{node}__account_name"]}
             for node in ("department", "agency", "agency__parent") if row[f"{node}__name"]]
    links = format_html_join(", ", '<a href="/console/directory/?agency={}">{}</a>',
                             ((quote(u["ref"]), u["name"]) for u in units))
    html = format_html(
        '<tr id="person-{}"><th scope="row">{}</th><td>{}</td><td>{}</td>'
        '<td><a href="mailto:{}">{}</a></td></tr>',
        row["id"], row["full_name"], row["position"] or "—", links, row["address"],
        row["address"])
    return {"id": row["id"], "name": row["full_name"], "position": row["position"],
            "units": units, "address": row["address"], "html": html}


def _agency_row(agency: Agency) -> dict[str, Any]:
    return {"name": agency.name, "ref": agency.account_name,
            "address": getattr(agency, "address", ""),
            "parent": agency.parent.name if agency.parent_id and agency.parent else ""}


def _page_number(text: str | None, pages: int) -> int:
    try:
        number = int(text or 1)
    except ValueError:
        number = 1
    return min(max(number, 1), max(pages, 1))


def _results(actor: Actor, q: str, agency: Agency | None,
             page_text: str | None) -> dict[str, Any]:
    """One page of matches. The count stops at ``COUNT_CAP`` (a province has tens of
    thousands of civil servants: past five hundred matches, more words help more than
    more pages), so a broad search costs no more than a narrow one."""
    query = parse_query(q)
    ids = agency_subtree_ids([agency.pk]) if agency is not None else None
    # One pass gives both the count and the page: the matching ids in order, then the
    # page's rows by primary key.
    found = matching_ids(actor, query, ids, cap=COUNT_CAP)
    count = len(found)
    pages = -(-min(count, COUNT_CAP) // PAGE_SIZE)
    number = _page_number(page_text, pages)
    start = (number - 1) * PAGE_SIZE
    rows = [_person_row(r) for r in directory_rows(actor, found[start:start + PAGE_SIZE])]
    boxes: list[Agency] = []
    if (query or agency is not None) and number == 1:
        boxes = list(agency_mailboxes(actor, query, ids)[:AGENCY_MAILBOXES_SHOWN + 1])
    filters = {k: v for k, v in (("q", q), ("agency", agency.account_name if agency else ""))
               if v}

    def page_url(n: int) -> str:
        return "?" + urlencode({**filters, "page": n})

    units = (list(Agency.objects.filter(parent=agency).order_by("name")
                  .values_list("account_name", "name")) if agency is not None else [])
    return {
        "rows": rows, "count": min(count, COUNT_CAP), "more": count > COUNT_CAP,
        "number": number, "pages": pages, "searched": bool(query or agency),
        "agency_rows": [_agency_row(a) for a in boxes[:AGENCY_MAILBOXES_SHOWN]],
        "more_agencies": len(boxes) > AGENCY_MAILBOXES_SHOWN,
        "agency": agency, "units": [{"ref": r, "name": n, "url": "?" + urlencode(
            {**({"q": q} if q else {}), "agency": r})} for r, n in units],
        "ignored_words": len(query.words) >= MAX_QUERY_WORDS,
        "previous_url": page_url(number - 1) if number > 1 else "",
        "next_url": page_url(number + 1) if number < pages else "",
    }


def _partial(request: HttpRequest) -> bool:
    """htmx asking for the results only (not when it restores a page from history)."""
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


@console_view
@require_safe
def directory(request: HttpRequest, actor: Actor) -> HttpResponse:
    form = DirectoryForm(request.GET)
    status = 200
    q, agency = "", None
    if form.is_valid():
        q = form.cleaned_data["q"].strip()
        agency = form.cleaned_data["agency"]
    else:
        status = 400
    ctx = _results(actor, q, agency, request.GET.get("page")) if status == 200 else {
        "rows": [], "errors": True}
    ctx.update(form=form, q=q, agency=agency, choices=_agency_choices(agency))
    template = ("console/directory/results.html" if _partial(request)
                else "console/directory/index.html")
    # htmx swaps only 2xx answers: a refused search shows its errors in the results too.
    response = render(request, template, ctx,
                      status=200 if _partial(request) else status)
    patch_vary_headers(response, ("HX-Request",))
    return response


urlpatterns = [path("directory/", directory, name="directory")]
