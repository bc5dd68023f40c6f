"""Registering an incoming document (GL-9.1, GL-9.2; Decree 30 Art. 23 ``ND30-23``):
a scan uploaded by the clerk, or a document waiting in the intake (``?received=ID``).

The summary hints (GL-9.1) are shown as the clerk types (htmx) and with the result. A
duplicate (same number and symbol, issuer, year) is shown before anything is saved and
the clerk confirms; the uploaded file is kept meanwhile (stored content-addressed, its
reference in the session, so nobody can point the form at another file)."""

from __future__ import annotations

from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from congvu import deployment
from congvu.actors import Actor
from congvu.console.pages.eoffice_incoming_common import BASE, document_row, now, today
from congvu.console.pages.eoffice_incoming_forms import RegistrationForm
from congvu.console.views import console_view
from congvu.directory.models import Agency
from congvu.eoffice import actions, files, rules, selectors, worklists
from congvu.eoffice.models import IncomingDocument, IncomingStatus
from congvu.eoffice.params import EofficeParams, deployment_params
from congvu.errors import CongvuError, Forbidden, NotFound

#: The session key of the file kept while the clerk answers a duplicate warning.
KEPT = "eoffice_incoming_kept_file"


def _clerk_agencies(actor: Actor, moment: Any) -> list[tuple[int, str]]:
    desk = worklists.desk_for(actor, moment)
    if not desk.is_clerk:
        raise Forbidden(_("Only the agency's clerk registers documents."))
    return [(a.pk, a.name) for a in Agency.objects.filter(pk__in=desk.clerk_agencies)
            .order_by("name")]


def _hints(summary: str, params: EofficeParams) -> list[str]:
    if not summary.strip():
        return []
    return [h.message for h in rules.summary_hints(summary, min_words=params.summary_min_words)]


def _initial_from(doc: IncomingDocument) -> dict[str, Any]:
    return {"agency": doc.agency_id, "issuer": doc.issuer, "number_symbol": doc.number_symbol,
            "document_date": doc.document_date, "doc_type": doc.doc_type,
            "summary": doc.summary, "signer": doc.signer, "urgency": doc.urgency,
            "confidentiality": doc.confidentiality, "page_count": doc.page_count,
            "deadline": doc.deadline, "field": doc.field, "channel": doc.channel}


def _received(actor: Actor, moment: Any, text: str) -> IncomingDocument | None:
    """The intake document being registered (the selectors check it is readable)."""
    if not text:
        return None
    try:
        doc_id = int(text)
    except ValueError:
        raise CongvuError(_("Invalid document number %(value)r.") % {"value": text}) from None
    doc = selectors.incoming_detail(actor, moment, doc_id)
    if doc.status != IncomingStatus.RECEIVED:
        raise Forbidden(_("Incoming document #%(id)s is not waiting for registration in "
                          "this agency.") % {"id": doc_id})
    return doc


def _render(request: HttpRequest, form: RegistrationForm, *, params: EofficeParams,
            received: IncomingDocument | None, status: int = 200,
            duplicates: list[dict[str, Any]] | None = None, general: list[str] | None = None,
            kept: dict[str, str] | None = None) -> HttpResponse:
    summary = form.data.get("summary", "") if form.is_bound else form.initial.get("summary", "")
    return render(request, "console/eoffice/incoming/new.html", {
        "form": form, "received": received, "hints": _hints(str(summary or ""), params),
        "duplicates": duplicates or [], "general": general or [], "kept": kept,
        "errors": [(f"id_{name}" if name != "__all__" else "form", e)
                   for name, errs in form.errors.items() for e in errs]}, status=status)


def _upload(request: HttpRequest, params: EofficeParams, form: RegistrationForm
            ) -> files.Upload | None:
    """The file given now, or the one kept from the duplicate warning; checked here so
    its error shows beside the field (the action checks again)."""
    given = request.FILES.get("file")
    if given is not None:
        upload = files.Upload(given.name or "", given.read())
        try:
            files.check(upload, params, pdf_only=params.incoming_pdf_only)
        except CongvuError as exc:
            form.add_error("file", f"{form.fields['file'].label}: {exc.message}")
            return None
        return upload
    kept = request.session.get(KEPT)
    if kept and request.POST.get("keep_file"):
        return files.Upload(kept["name"], files.read(kept["path"], kept["sha256"]))
    return None


@console_view
@require_http_methods(["GET", "POST"])
def register(request: HttpRequest, actor: Actor) -> HttpResponse:
    profile = deployment.deployment_profile()
    params = deployment_params(profile)
    moment = now()
    agencies = _clerk_agencies(actor, moment)
    source = request.POST if request.method == "POST" else request.GET
    received = _received(actor, moment, source.get("received", "").strip())
    if request.method == "GET":
        request.session.pop(KEPT, None)
        initial = _initial_from(received) if received else {"agency": agencies[0][0]}
        form = RegistrationForm(initial=initial, agencies=agencies, tz=profile.timezone,
                                now=moment)
        return _render(request, form, params=params, received=received)
    form = RegistrationForm(request.POST, request.FILES, agencies=agencies,
                            tz=profile.timezone, now=moment)
    valid = form.is_valid()
    upload = _upload(request, params, form)
    if valid and upload is None and received is None and not form.errors and \
            not rules.is_classified(form.cleaned_data["confidentiality"]):
        form.add_error("file", _("%(field)s: attach the PDF (the scan or the electronic "
                                 "original); only a classified document may stay on paper.")
                       % {"field": form.fields["file"].label})
    if not valid or form.errors:
        return _render(request, form, params=params, received=received, status=400,
                       kept=request.session.get(KEPT) if request.POST.get("keep_file")
                       else None)
    data = form.cleaned_data
    incoming = actions.IncomingForm(
        issuer=data["issuer"], summary=data["summary"], doc_type=data["doc_type"],
        number_symbol=data["number_symbol"], document_date=data["document_date"],
        signer=data["signer"], urgency=data["urgency"],
        confidentiality=data["confidentiality"], page_count=data["page_count"],
        deadline=data["deadline"], field=data["field"], channel=data["channel"],
        received_at=data["received_at"])
    confirm = bool(request.POST.get("confirm_duplicate"))
    try:
        doc = actions.do_register_incoming(
            actor=actor, profile=profile, agency_id=data["agency"], form=incoming,
            now=moment, upload=upload, received_id=received.pk if received else None,
            confirm_duplicate=confirm, params=params)
    except actions.DuplicateDocument as exc:
        kept = _keep(request, upload, params)
        tz, day = profile.timezone, today(profile, moment)
        return _render(request, form, params=params, received=received, status=409,
                       duplicates=[document_row(d, tz, day) for d in exc.duplicates],
                       general=[exc.message], kept=kept)
    except (Forbidden, NotFound):
        raise
    except CongvuError as exc:  # what only the domain knows; nothing was written
        return _render(request, form, params=params, received=received, status=400,
                       general=[exc.message])
    request.session.pop(KEPT, None)
    hints = _hints(doc.summary, params)
    text = _("Registered. Incoming number: %(number)s (%(year)s).") % {
        "number": rules.number_digits(doc.number or 0), "year": doc.year}
    if doc.registered_late:
        text += " " + _("Registered after its due time (ND30-23): it is counted as late.")
    messages.success(request, text)
    for hint in hints:
        messages.warning(request, hint)
    return HttpResponseRedirect(f"{BASE}{doc.pk}/")


def _keep(request: HttpRequest, upload: files.Upload | None,
          params: EofficeParams) -> dict[str, str] | None:
    """Store the file while the clerk answers the duplicate warning."""
    if upload is None:
        return None
    stored = files.store(upload, params, pdf_only=params.incoming_pdf_only)
    kept = {"path": stored.path, "sha256": stored.sha256, "name": stored.name}
    request.session[KEPT] = kept
    return kept


@console_view
@require_GET
def summary_hints(request: HttpRequest, actor: Actor) -> HttpResponse:
    """htmx: the GL-9.1 hints for the summary typed so far."""
    params = deployment_params(deployment.deployment_profile())
    return render(request, "console/eoffice/incoming/_hints.html",
                  {"hints": _hints(request.GET.get("summary", ""), params)})


urlpatterns: list[URLPattern] = [
    path("eoffice/incoming/new/", register, name="eoffice-incoming-new"),
    path("eoffice/incoming/new/hints/", summary_hints, name="eoffice-incoming-hints"),
]
