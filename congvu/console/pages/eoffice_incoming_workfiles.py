"""Work files (hồ sơ công việc, GL-9.6): the person's own files, opening one, and the
documents filed in each. Work files are personal: someone else's is a 403."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_http_methods

from congvu import deployment
from congvu.actors import Actor
from congvu.console.pages.eoffice_incoming_common import (
    BASE,
    WORK_FILES,
    now,
    number_label,
    urgency_word,
)
from congvu.console.pages.eoffice_incoming_forms import WorkFileForm
from congvu.console.views import console_view, local_time
from congvu.directory.models import Agency
from congvu.eoffice import actions, rules, selectors, worklists
from congvu.errors import CongvuError, Forbidden, NotFound


def _agencies(actor: Actor) -> list[tuple[int, str]]:
    desk = worklists.seated_desk(actor, now())
    return [(a.pk, a.name) for a in Agency.objects.filter(pk__in=desk.own_agencies)
            .order_by("name")]


@console_view
@require_http_methods(["GET", "POST"])
def work_files(request: HttpRequest, actor: Actor) -> HttpResponse:
    agencies = _agencies(actor)
    status = 200
    if request.method == "POST":
        form = WorkFileForm(request.POST, agencies=agencies)
        if form.is_valid():
            try:
                made = actions.do_create_work_file(
                    actor=actor, agency_id=form.cleaned_data["agency"], now=now(),
                    title=form.cleaned_data["title"], code=form.cleaned_data["code"])
            except (Forbidden, NotFound):
                raise
            except CongvuError as exc:
                form.add_error(None, exc.message)
            else:
                messages.success(request, _("Work file \"%(title)s\" opened.") % {
                    "title": made.title})
                return HttpResponseRedirect(f"{WORK_FILES}{made.pk}/")
        status = 400
    else:
        form = WorkFileForm(agencies=agencies)
    rows = [{"w": w, "count": w.items.count(), "url": f"{WORK_FILES}{w.pk}/"}
            for w in selectors.work_files_for(actor)]
    return render(request, "console/eoffice/workfiles/list.html",
                  {"rows": rows, "form": form if agencies else None}, status=status)


@console_view
@require_GET
def work_file(request: HttpRequest, actor: Actor, work_file_id: int) -> HttpResponse:
    tz = deployment.deployment_profile().timezone
    folder, items = worklists.work_file_detail(actor, work_file_id)
    rows = []
    for item in items:
        doc = item.incoming
        if doc is not None:
            rows.append({"kind": _("Incoming"), "url": f"{BASE}{doc.pk}/",
                         "number": number_label(doc), "issuer": doc.issuer,
                         "summary": doc.summary, "urgency": urgency_word(doc.urgency),
                         "secrecy": rules.CONFIDENTIALITY_WORDS[doc.confidentiality],
                         "added": local_time(item.added_at, tz)})
        elif item.outgoing is not None:
            out = item.outgoing
            rows.append({"kind": _("Outgoing"), "url": f"/console/eoffice/outgoing/{out.pk}/",
                         "number": out.number_text or f"#{out.pk}", "issuer": "",
                         "summary": out.summary, "urgency": urgency_word(out.urgency),
                         "secrecy": rules.CONFIDENTIALITY_WORDS[out.confidentiality],
                         "added": local_time(item.added_at, tz)})
    return render(request, "console/eoffice/workfiles/detail.html",
                  {"w": folder, "rows": rows, "created": local_time(folder.created_at, tz)})


urlpatterns: list[URLPattern] = [
    path("eoffice/work-files/", work_files, name="eoffice-work-files"),
    path("eoffice/work-files/<int:work_file_id>/", work_file, name="eoffice-work-file"),
]
