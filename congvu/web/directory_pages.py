"""The public directory per agency (NB-11.5, QN-13.4), without signing in, for the
agencies' web portals: ``/danh-ba/`` lists the province's agencies; ``/danh-ba/<agency>/``
is an agency's page (its address, its units' and its staff's: name, position, address);
``danh-ba.csv`` and ``danh-ba.json`` are the same data for programs and spreadsheets;
``nhung/`` is a bare HTML table for an ``<iframe>`` on the agency's portal.

Framing: every page of congvu refuses to be framed (``X-Frame-Options: DENY``,
``frame-ancestors 'none'``) against clickjacking. The embeddable variant alone allows any
site to frame it (``frame-ancestors *``, no ``X-Frame-Options``): it is public by
regulation, read-only (no form, no button, no session cookie, no script), so a frame
around it can trick nobody into doing anything, and congvu does not know every agency
portal's origin (portals change hosts; a list would be one more thing to keep). Its
links open in a new tab (``target="_blank" rel="noopener"``) so they never navigate the
portal's page. The rest of its Content-Security-Policy stays as strict as everywhere.

Caching: the CSV, JSON and embedded variants carry no cookie and may be cached by
anyone for five minutes (``Cache-Control: public, max-age=300``); the JSON has
``Access-Control-Allow-Origin: *`` so a portal's own script may read it. The language
is Vietnamese unless the visitor chose English (cookie) or the URL asks with
``?lang=en`` (for an English portal's frame)."""

from __future__ import annotations

import csv
import io
from collections.abc import Callable
from functools import wraps
from typing import Any
from urllib.parse import quote

from django.conf import settings
from django.http import HttpRequest, HttpResponse, JsonResponse
from django.shortcuts import render
from django.urls import path
from django.utils import translation
from django.utils.translation import gettext as _
from django.views.decorators.clickjacking import xframe_options_exempt
from django.views.decorators.http import require_safe

from congvu import deployment
from congvu.directory.public import PublicDirectory, public_agencies, public_directory
from congvu.errors import NotFound

#: Seconds anyone may cache the CSV, JSON and embedded variants.
PUBLIC_MAX_AGE = 300

View = Callable[..., HttpResponse]


def _language(view: View) -> View:
    """``?lang=en`` or ``?lang=vi`` picks the language of this answer (a frame on a
    portal has no language cookie); otherwise the site's choice (Vietnamese)."""

    @wraps(view)
    def wrapper(request: HttpRequest, *args: Any, **kwargs: Any) -> HttpResponse:
        lang = request.GET.get("lang", "")
        if lang in dict(settings.LANGUAGES):
            with translation.override(lang):
                response = view(request, *args, **kwargs)
                response["Content-Language"] = lang
                return response
        return view(request, *args, **kwargs)

    return wrapper


def _not_found(request: HttpRequest, exc: NotFound) -> HttpResponse:
    return render(request, "web/directory/not_found.html",
                  {"message": exc.message, "profile": deployment.deployment_profile()},
                  status=404)


def _public(response: HttpResponse) -> HttpResponse:
    response["Cache-Control"] = f"public, max-age={PUBLIC_MAX_AGE}"
    return response


def _with_directory(view: Callable[[HttpRequest, PublicDirectory], HttpResponse]) -> View:
    """The agency's directory from the URL, or the 404 page in the visitor's language."""

    @wraps(view)
    def wrapper(request: HttpRequest, ref: str) -> HttpResponse:
        try:
            data = public_directory(ref)
        except NotFound as exc:
            return _not_found(request, exc)
        return view(request, data)

    return wrapper


@require_safe
def index(request: HttpRequest) -> HttpResponse:
    return render(request, "web/directory/index.html", {
        "agencies": public_agencies(), "profile": deployment.deployment_profile()})


def _context(request: HttpRequest, data: PublicDirectory) -> dict[str, Any]:
    base = f"/danh-ba/{quote(data.agency.account_name)}/"
    return {"data": data, "profile": deployment.deployment_profile(), "base": base,
            "embed_url": request.build_absolute_uri(base + "nhung/")}


@require_safe
@_language
@_with_directory
def agency_page(request: HttpRequest, data: PublicDirectory) -> HttpResponse:
    return render(request, "web/directory/agency.html", _context(request, data))


@require_safe
@xframe_options_exempt
@_language
@_with_directory
def agency_embed(request: HttpRequest, data: PublicDirectory) -> HttpResponse:
    response = render(request, "web/directory/embed.html", _context(request, data))
    response["Content-Security-Policy"] = settings.CONTENT_SECURITY_POLICY.replace(
        "frame-ancestors 'none'", "frame-ancestors *")
    return _public(response)


@require_safe
@_language
@_with_directory
def agency_json(request: HttpRequest, data: PublicDirectory) -> HttpResponse:
    response = JsonResponse(data.as_json(), json_dumps_params={"ensure_ascii": False})
    response["Access-Control-Allow-Origin"] = "*"
    return _public(response)


@require_safe
@_language
@_with_directory
def agency_csv(request: HttpRequest, data: PublicDirectory) -> HttpResponse:
    """One row per mailbox: the units' own, then their persons'. UTF-8 with a byte-order
    mark, so spreadsheet programs show the Vietnamese letters."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Agency or unit"), _("Full name"), _("Position"), _("E-mail address")])
    for unit in data.units:
        if unit.address:
            writer.writerow([unit.name, "", "", unit.address])
        for person in unit.persons:
            writer.writerow([unit.name, person.name, person.position, person.address])
    response = HttpResponse("\ufeff" + out.getvalue(), content_type="text/csv; charset=utf-8")
    name = f"danh-ba-{data.agency.account_name}.csv"
    response["Content-Disposition"] = f'attachment; filename="{name}"'
    return _public(response)


urlpatterns = [
    path("", index, name="public-directory"),
    path("<str:ref>/", agency_page, name="public-directory-agency"),
    path("<str:ref>/nhung/", agency_embed, name="public-directory-embed"),
    path("<str:ref>/danh-ba.json", agency_json, name="public-directory-json"),
    path("<str:ref>/danh-ba.csv", agency_csv, name="public-directory-csv"),
]
