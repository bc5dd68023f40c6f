"""The document search page (``/console/eoffice/search/?q=…``): incoming and outgoing
documents the reader may read, by metadata and the PDFs' full text, without tone marks
(:mod:`congvu.eoffice.search`). As the person types, htmx asks for the results only;
without JavaScript the same GET form loads the whole page."""

from __future__ import annotations

from html import escape
from typing import Any, cast
from urllib.parse import urlencode

from django import forms
from django.http import HttpRequest, HttpResponse
from django.shortcuts import render
from django.urls import path
from django.utils.cache import patch_vary_headers
from django.utils.safestring import SafeString, mark_safe
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_safe

from congvu import clock, deployment
from congvu.actors import Actor
from congvu.console.pages.eoffice_registers_common import (
    DateRange,
    options,
    type_choices,
    year_field,
)
from congvu.console.views import console_view
from congvu.eoffice import rules
from congvu.eoffice.access import powers_for
from congvu.eoffice.models import IncomingStatus, OutgoingStatus
from congvu.eoffice.search import MAX_PAGES, PAGE_SIZE, Hit, SearchFilters, search
from congvu.errors import Forbidden


class SearchForm(DateRange):
    q = forms.CharField(
        label=gettext_lazy("Words to find"), required=False, max_length=200,
        help_text=gettext_lazy("Number and symbol, summary, issuing agency, signer or words "
                               "of the document's text; tone marks do not matter."),
        error_messages={"max_length": gettext_lazy(
            "Words to find: at most %(limit_value)d characters (you typed %(show_value)d).")})
    kind = forms.ChoiceField(label=gettext_lazy("Incoming or outgoing"), required=False, choices=[
        ("", gettext_lazy("Incoming and outgoing")),
        ("incoming", gettext_lazy("Incoming documents")),
        ("outgoing", gettext_lazy("Outgoing documents"))])
    year = year_field()
    type = forms.ChoiceField(label=gettext_lazy("Type"), required=False)
    page = forms.IntegerField(required=False, min_value=1)

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        # "All types" in the reader's language (the class attribute was built at import).
        cast(forms.ChoiceField, self.fields["type"]).choices = type_choices(incoming=True)


def _partial(request: HttpRequest) -> bool:
    return (request.headers.get("HX-Request") == "true"
            and request.headers.get("HX-History-Restore-Request") != "true")


_STATUS = {**dict(IncomingStatus.choices), **dict(OutgoingStatus.choices)}


def _hit_html(h: Hit) -> SafeString:
    """One result, built here rather than in the template (twenty a page, each with its
    snippet's pieces; html.escape, as Django's escaping costs ten times more)."""
    kind = _("Incoming") if h.kind == "incoming" else _("Outgoing")
    head = [f'<span class="kind">{escape(kind)}</span> '
            f'<a href="{escape(h.url)}">{escape(h.number or f"#{h.id}")}</a>']
    if h.number_symbol and h.kind == "incoming":
        head.append(escape(h.number_symbol))
    head.append(h.date.strftime("%d/%m/%Y"))
    if h.issuer:
        head.append(escape(h.issuer))
    if rules.is_classified(h.confidentiality):
        head.append(f'<strong class="flag">'
                    f'{escape(rules.CONFIDENTIALITY_WORDS[h.confidentiality])}</strong>')
    head.append(f'<span class="note">{escape(str(_STATUS.get(h.status, h.status)))}</span>')
    summary = f"{h.type_name}: {h.summary}" if h.type_name else h.summary
    snippet = "".join(f"<mark>{escape(text)}</mark>" if matched else escape(text)
                      for text, matched in h.snippet)
    return mark_safe(  # noqa: S308 - every piece is escaped
        f'<li class="hit" id="hit-{h.kind}-{h.id}"><p class="hit-head">{" · ".join(head)}</p>'
        f'<p class="hit-summary">{escape(summary)}</p>'
        + (f'<p class="snippet">{snippet}</p>' if snippet else "") + "</li>")


@console_view
@require_safe
def search_page(request: HttpRequest, actor: Actor) -> HttpResponse:
    now = clock.now()
    if not powers_for(actor, now).seats:
        raise Forbidden(_("Only people with an eOffice role search documents."))
    profile = deployment.deployment_profile()
    form = SearchForm(request.GET)
    ctx: dict[str, Any] = {"form": form, "searched": False, "hits": []}
    status = 200
    if form.is_valid():
        d = form.cleaned_data
        filters = SearchFilters(kind=d["kind"] or "", year=d["year"], doc_type=d["type"] or "",
                                date_from=d["date_from"], date_to=d["date_to"])
        searched = bool(d["q"].strip()) or filters != SearchFilters()
        if searched:
            found = search(actor, now, d["q"], filters=filters, page=d["page"] or 1,
                           tz=profile.timezone)
            keep = {k: v for k, v in request.GET.items() if k != "page" and v}

            def page_url(n: int) -> str:
                return "?" + urlencode({**keep, "page": n})

            ctx.update(
                searched=True, number=found.number, max_pages=MAX_PAGES,
                first_rank=(found.number - 1) * PAGE_SIZE + 1,
                hits=[_hit_html(h) for h in found.hits],
                previous_url=page_url(found.number - 1) if found.number > 1 else "",
                next_url=page_url(found.number + 1) if found.more else "")
    else:
        status = 400
    ctx["type_options"] = options(type_choices(incoming=True), form["type"].value())
    template = ("console/eoffice/search/results.html" if _partial(request)
                else "console/eoffice/search/index.html")
    response = render(request, template, ctx, status=200 if _partial(request) else status)
    patch_vary_headers(response, ("HX-Request",))
    return response


urlpatterns = [path("eoffice/search/", search_page, name="eoffice-search")]
