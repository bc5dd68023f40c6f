"""One incoming document (GL-9) and what may be done on it: its Decree 30 fields and
files, the registration's timeliness (ND30-23), the distribution tree with directions,
deadlines, progress and results, its history; the director's distribution (GL-9.3,
GL-9.5, GL-15.3), the department head's passing on (GL-9.4), the handler's progress and
result and filing into a work file (GL-9.6). Each form is shown only to whoever may use
it; the actions check again. Everything goes through ``selectors.incoming_detail``
first, so a document the person may not read is a 403 (or a 404) before anything."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from django.contrib import messages
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy
from django.views.decorators.http import require_GET, require_POST

from congvu import deployment
from congvu.actors import Actor
from congvu.console.pages.eoffice_incoming_common import (
    BASE,
    WORK_FILES,
    label,
    now,
    number_label,
    today,
    type_label,
    urgency_word,
    who,
)
from congvu.console.pages.eoffice_incoming_forms import (
    BLANK_ROWS,
    MAX_ROWS,
    ConfirmForm,
    FileForm,
    ProgressForm,
    RecipientRow,
    ResultForm,
)
from congvu.console.views import console_view, local_date, local_time
from congvu.eoffice import actions, rules, selectors, worklists
from congvu.eoffice.actions import Recipient
from congvu.eoffice.models import (
    Assignment,
    AssignmentStatus,
    Channel,
    IncomingDocument,
    IncomingStatus,
)
from congvu.errors import CongvuError, Forbidden, NotFound

#: What the history says for each audited action.
ACTIONS = {
    "eoffice.incoming.receive": gettext_lazy("Received into the intake"),
    "eoffice.incoming.register": gettext_lazy("Registered"),
    "eoffice.incoming.assign": gettext_lazy("Distributed"),
    "eoffice.incoming.pass_on": gettext_lazy("Passed on"),
    "eoffice.incoming.progress": gettext_lazy("Progress recorded"),
    "eoffice.incoming.result": gettext_lazy("Result recorded"),
}
@dataclass
class Rows:
    """A variable number of recipient rows (``key-1-…``, ``key-2-…``), the count in
    ``key-rows``: blank rows are ignored; "more rows" re-renders with empty ones."""

    key: str
    forms: list[RecipientRow]

    @property
    def count(self) -> int:
        return len(self.forms)

    @property
    def numbered(self) -> list[tuple[int, RecipientRow]]:
        return list(enumerate(self.forms, start=1))


def _targets_for_assign(doc: IncomingDocument) -> list[tuple[str, list[tuple[str, str]]]]:
    departments = [(f"d:{d.pk}", d.name) for d in worklists.departments_of(doc.agency_id)]
    people = [(f"p:{a.pk}", worklists.person_name(a))
              for a in worklists.people_of(doc.agency_id)]
    return [(_("Departments"), departments), (_("People"), people)]


def _targets_for_pass_on(a: Assignment, doc: IncomingDocument
                         ) -> list[tuple[str, list[tuple[str, str]]]]:
    people = [(f"p:{p.pk}", worklists.person_name(p))
              for p in worklists.people_of(doc.agency_id, a.to_department_id)]
    return [(_("People of the department"), people)]


def _rows(key: str, targets: list[tuple[str, list[tuple[str, str]]]], *, passing_on: bool,
          data: Any = None, extra: int = 0) -> Rows:
    """The rows posted (bound, to check), or with ``extra`` more empty ones: then
    re-shown as typed (unbound, so nothing is flagged before the clerk submits)."""
    count = BLANK_ROWS
    if data is not None:
        try:
            count = int(data.get(f"{key}-rows", BLANK_ROWS))
        except ValueError:
            count = BLANK_ROWS
    count = max(1, min(MAX_ROWS, count + extra))
    forms = []
    for n in range(1, count + 1):
        prefix = f"{key}-{n}"
        if data is not None and extra:
            initial = {f: data.get(f"{prefix}-{f}", "") for f in RecipientRow.base_fields}
            forms.append(RecipientRow(initial=initial, prefix=prefix, targets=targets,
                                      passing_on=passing_on))
        else:
            forms.append(RecipientRow(data, prefix=prefix, targets=targets,
                                      passing_on=passing_on))
    return Rows(key, forms)


def _recipients(rows: Rows) -> list[Recipient] | None:
    """The filled rows as recipients, or None when a row has an error (shown by it)."""
    out: list[Recipient] = []
    ok = True
    for form in rows.forms:
        if form.blank:
            continue
        if not form.is_valid():
            ok = False
            continue
        data = form.cleaned_data
        kind_of, _sep, ident = data["target"].partition(":")
        target = int(ident)
        out.append(Recipient(kind=data["kind"],
                             department_id=target if kind_of == "d" else None,
                             account_id=target if kind_of == "p" else None,
                             directions=data["directions"], deadline=data["deadline"]))
    if ok and not out:
        rows.forms[0].add_error("target", _("%(field)s: choose at least one department or "
                                            "person.") % {"field": _("Recipient")})
        return None
    return out if ok else None


def _work_file_choices(actor: Actor, doc: IncomingDocument) -> list[tuple[int, str]]:
    return [(w.pk, f"{w.code} — {w.title}" if w.code else w.title)
            for w in worklists.own_work_files(actor, doc.agency_id)]


def _facts(doc: IncomingDocument, tz: str, moment: dt.datetime) -> dict[str, Any]:
    waiting = doc.status == IncomingStatus.RECEIVED
    return {
        "number": number_label(doc), "status": label(IncomingStatus, doc.status),
        "channel": label(Channel, doc.channel), "type": type_label(doc),
        "urgency": urgency_word(doc.urgency),
        "secrecy": rules.CONFIDENTIALITY_WORDS[doc.confidentiality],
        "received_at": local_time(doc.received_at, tz),
        "due_at": local_time(doc.registration_due_at, tz),
        "registered_at": local_time(doc.registered_at, tz),
        "registered_by": who(doc.registered_by_label) if doc.registered_by_label else "—",
        "late": doc.registered_late or (waiting and doc.registration_due_at < moment),
        "waiting": waiting,
        "document_date": local_date(doc.document_date), "deadline": local_date(doc.deadline),
        "done_at": local_time(doc.done_at, tz),
    }


def render_detail(request: HttpRequest, actor: Actor, doc: IncomingDocument, *,
                  status: int = 200, bound: dict[str, Any] | None = None,
                  general: dict[str, list[str]] | None = None) -> HttpResponse:
    """The page of a readable document; ``bound`` replaces a form by the one just
    posted (with its errors), ``general`` adds domain errors above a form."""
    profile = deployment.deployment_profile()
    tz, moment = profile.timezone, now()
    day = today(profile, moment)
    bound = bound or {}
    work_files = _work_file_choices(actor, doc)

    def view(node: worklists.Node) -> dict[str, Any]:
        a = node.assignment
        v: dict[str, Any] = {
            "a": a, "to": node.to_name, "overdue": node.overdue, "may_act": node.may_act,
            "acting_for": node.acting_for, "notes": [
                {"at": local_time(n.at, tz), "by": who(n.by_label), "text": n.text,
                 "percent": n.percent} for n in a.notes.all()],
            "status": label(AssignmentStatus, a.status),
            "kind": label(rules.AssignmentKind, a.kind), "from": who(a.from_label),
            "deadline": local_date(a.deadline), "assigned_at": local_time(a.assigned_at, tz),
            "done_at": local_time(a.done_at, tz),
            "children": [view(c) for c in node.children]}
        if node.may_act:
            v["progress_form"] = bound.get(f"progress-{a.pk}") or ProgressForm(
                prefix=f"a{a.pk}")
            v["result_form"] = bound.get(f"result-{a.pk}") or ResultForm(
                prefix=f"a{a.pk}", work_files=work_files)
            v["errors"] = [*(general or {}).get(f"progress-{a.pk}", []),
                           *(general or {}).get(f"result-{a.pk}", []),
                           *(general or {}).get(f"pass-{a.pk}", [])]
        if node.may_pass_on:
            v["pass_on_rows"] = bound.get(f"pass-{a.pk}") or _rows(
                f"pass{a.pk}", _targets_for_pass_on(a, doc), passing_on=True)
            v["pass_row_url"] = f"{BASE}assignments/{a.pk}/pass-on/row/"
        return v

    tree = [view(n) for n in worklists.assignment_tree(actor, moment, doc, day)]
    leader = worklists.distribution_seat(actor, moment, doc)
    desk = worklists.desk_for(actor, moment)
    context: dict[str, Any] = {
        "doc": doc, "facts": _facts(doc, tz, moment), "timezone": tz,
        "versions": [{"v": v, "uploaded": local_time(v.created_at, tz),
                      "by": who(v.created_by_label),
                      "url": f"{BASE}{doc.pk}/files/{v.pk}/"}
                     for v in selectors.versions(actor, moment, incoming_id=doc.pk)],
        "tree": tree,
        "history": [{"at": local_time(e.at, tz), "who": who(e.actor),
                     "what": ACTIONS.get(e.action, e.action), "rule": e.rule}
                    for e in worklists.history(doc)],
        "leader": leader, "general": general or {},
        "may_register": worklists.may_register(actor, moment, doc),
        "reply_url": f"/console/eoffice/outgoing/new/?reply_to={doc.pk}"
        if worklists.may_reply(actor, moment, doc) else "",
        "may_file": doc.agency_id in desk.own_agencies,
        "filed_in": worklists.filed_in(actor, doc), "work_files_url": WORK_FILES,
    }
    if leader.may:
        context["confirm_form"] = bound.get("confirm") or ConfirmForm(initial={
            "doc_type": doc.doc_type, "field": doc.field, "deadline": doc.deadline})
        context["assign_rows"] = bound.get("assign") or _rows(
            "assign", _targets_for_assign(doc), passing_on=False)
        context["assign_row_url"] = f"{BASE}{doc.pk}/assign/row/"
    if context["may_file"]:
        context["file_form"] = bound.get("file") or FileForm(work_files=work_files)
    return render(request, "console/eoffice/incoming/detail.html", context, status=status)


@console_view
@require_GET
def detail(request: HttpRequest, actor: Actor, doc_id: int) -> HttpResponse:
    doc = selectors.incoming_detail(actor, now(), doc_id)
    return render_detail(request, actor, doc)


@console_view
@require_GET
def version_file(request: HttpRequest, actor: Actor, doc_id: int,
                 version_id: int) -> HttpResponse:
    """A file of the document: inline (a PDF opens in the browser) or ``?download=1``."""
    version, content = selectors.version_content(actor, now(), version_id)
    if version.incoming_id != doc_id:
        raise NotFound(_("There is no such file."))
    response = HttpResponse(content, content_type=version.mime)
    inline = version.mime == "application/pdf" and not request.GET.get("download")
    response["Content-Disposition"] = content_disposition_header(
        not inline, version.original_name or f"van-ban-{doc_id}-v{version.number}") or ""
    response["X-Content-Type-Options"] = "nosniff"
    return response


def _assignment(actor: Actor, assignment_id: int) -> tuple[Assignment, IncomingDocument]:
    """An assignment of a document the person may read and that is theirs to handle
    (403/404 otherwise)."""
    a = Assignment.objects.filter(pk=assignment_id).first()
    if a is None:
        raise NotFound(_("There is no assignment #%(id)s.") % {"id": assignment_id})
    doc = selectors.incoming_detail(actor, now(), a.document_id)
    worklists.require_handler(actor, now(), a, doc)
    return a, doc


def _done(request: HttpRequest, doc: IncomingDocument, text: str) -> HttpResponse:
    messages.success(request, text)
    return HttpResponseRedirect(f"{BASE}{doc.pk}/")


@console_view
@require_POST
def assign(request: HttpRequest, actor: Actor, doc_id: int) -> HttpResponse:
    """The director distributes (GL-9.3, GL-9.5), confirming type, field and deadline
    (GL-15.3); "more rows" (no JavaScript) shows more empty rows."""
    profile = deployment.deployment_profile()
    doc = selectors.incoming_detail(actor, now(), doc_id)
    more = "more" in request.POST
    rows = _rows("assign", _targets_for_assign(doc), passing_on=False, data=request.POST,
                 extra=BLANK_ROWS if more else 0)
    confirm = ConfirmForm(request.POST)
    if more:
        return render_detail(request, actor, doc, bound={"assign": rows, "confirm": confirm})
    recipients = _recipients(rows)
    if recipients is None or not confirm.is_valid():
        return render_detail(request, actor, doc, status=400,
                             bound={"assign": rows, "confirm": confirm})
    data = confirm.cleaned_data
    try:
        made = actions.do_assign_incoming(
            actor=actor, profile=profile, document_id=doc.pk, recipients=recipients,
            now=now(), doc_type=data["doc_type"], field=data["field"],
            deadline=data["deadline"])
    except (Forbidden, NotFound):
        raise
    except CongvuError as exc:
        return render_detail(request, actor, doc, status=400,
                             bound={"assign": rows, "confirm": confirm},
                             general={"assign": [exc.message]})
    return _done(request, doc, _("Distributed to %(count)d recipient(s).") % {
        "count": len(made)})


@console_view
@require_POST
def pass_on(request: HttpRequest, actor: Actor, assignment_id: int) -> HttpResponse:
    """A head of department passes the department's assignment on (GL-9.4)."""
    profile = deployment.deployment_profile()
    a, doc = _assignment(actor, assignment_id)
    key = f"pass{a.pk}"
    more = "more" in request.POST
    rows = _rows(key, _targets_for_pass_on(a, doc), passing_on=True, data=request.POST,
                 extra=BLANK_ROWS if more else 0)
    if more:
        return render_detail(request, actor, doc, bound={f"pass-{a.pk}": rows})
    recipients = _recipients(rows)
    if recipients is None:
        return render_detail(request, actor, doc, status=400, bound={f"pass-{a.pk}": rows})
    try:
        made = actions.do_pass_on(actor=actor, profile=profile, assignment_id=a.pk,
                                  recipients=recipients, now=now())
    except (Forbidden, NotFound):
        raise
    except CongvuError as exc:
        return render_detail(request, actor, doc, status=400, bound={f"pass-{a.pk}": rows},
                             general={f"pass-{a.pk}": [exc.message]})
    return _done(request, doc, _("Passed on to %(count)d person(s).") % {"count": len(made)})


@console_view
@require_POST
def progress(request: HttpRequest, actor: Actor, assignment_id: int) -> HttpResponse:
    a, doc = _assignment(actor, assignment_id)
    form = ProgressForm(request.POST, prefix=f"a{a.pk}")
    if not form.is_valid():
        return render_detail(request, actor, doc, status=400, bound={f"progress-{a.pk}": form})
    try:
        actions.do_record_progress(actor=actor, assignment_id=a.pk, now=now(),
                                   text=form.cleaned_data["text"],
                                   percent=form.cleaned_data["percent"])
    except (Forbidden, NotFound):
        raise
    except CongvuError as exc:
        return render_detail(request, actor, doc, status=400, bound={f"progress-{a.pk}": form},
                             general={f"progress-{a.pk}": [exc.message]})
    return _done(request, doc, _("Progress recorded."))


@console_view
@require_POST
def result(request: HttpRequest, actor: Actor, assignment_id: int) -> HttpResponse:
    a, doc = _assignment(actor, assignment_id)
    form = ResultForm(request.POST, prefix=f"a{a.pk}",
                      work_files=_work_file_choices(actor, doc))
    if not form.is_valid():
        return render_detail(request, actor, doc, status=400, bound={f"result-{a.pk}": form})
    try:
        actions.do_record_result(actor=actor, assignment_id=a.pk, now=now(),
                                 result=form.cleaned_data["result"],
                                 work_file_id=form.cleaned_data["work_file"])
    except (Forbidden, NotFound):
        raise
    except CongvuError as exc:
        return render_detail(request, actor, doc, status=400, bound={f"result-{a.pk}": form},
                             general={f"result-{a.pk}": [exc.message]})
    doc.refresh_from_db()
    text = _("Result recorded.")
    if doc.status == IncomingStatus.DONE:
        text += " " + _("Every handler has finished: the document is handled.")
    return _done(request, doc, text)


@console_view
@require_POST
def file_document(request: HttpRequest, actor: Actor, doc_id: int) -> HttpResponse:
    """File the document into one of the person's work files, or a new one (GL-9.6)."""
    moment = now()
    doc = selectors.incoming_detail(actor, moment, doc_id)
    form = FileForm(request.POST, work_files=_work_file_choices(actor, doc))
    if not form.is_valid():
        return render_detail(request, actor, doc, status=400, bound={"file": form})
    work_file_id = form.cleaned_data["work_file"]
    try:
        if not work_file_id:
            work_file_id = actions.do_create_work_file(
                actor=actor, agency_id=doc.agency_id, now=moment,
                title=form.cleaned_data["new_title"]).pk
        item = actions.do_file_document(actor=actor, work_file_id=work_file_id,
                                        incoming_id=doc.pk, now=moment)
    except (Forbidden, NotFound):
        raise
    except CongvuError as exc:
        return render_detail(request, actor, doc, status=400, bound={"file": form},
                             general={"file": [exc.message]})
    return _done(request, doc, _("Filed into the work file \"%(title)s\".") % {
        "title": item.work_file.title})


@console_view
@require_GET
def assign_row(request: HttpRequest, actor: Actor, doc_id: int) -> HttpResponse:
    """htmx: one more empty distribution row."""
    doc = selectors.incoming_detail(actor, now(), doc_id)
    if not worklists.distribution_seat(actor, now(), doc).may:
        raise Forbidden(_("Only the agency's director distributes incoming documents."))
    return _one_row(request, "assign", _targets_for_assign(doc), passing_on=False)


@console_view
@require_GET
def pass_on_row(request: HttpRequest, actor: Actor, assignment_id: int) -> HttpResponse:
    """htmx: one more empty row of a department's passing on."""
    a, doc = _assignment(actor, assignment_id)
    return _one_row(request, f"pass{a.pk}", _targets_for_pass_on(a, doc), passing_on=True)


def _one_row(request: HttpRequest, key: str, targets: list[tuple[str, list[tuple[str, str]]]],
             *, passing_on: bool) -> HttpResponse:
    try:
        count = max(0, int(request.GET.get(f"{key}-rows", "0")))
    except ValueError:
        count = 0
    if count >= MAX_ROWS:
        return HttpResponse("")
    n = count + 1
    row = RecipientRow(prefix=f"{key}-{n}", targets=targets, passing_on=passing_on)
    return render(request, "console/eoffice/incoming/_row_added.html",
                  {"n": n, "row": row, "key": key})


urlpatterns: list[URLPattern] = [
    path("eoffice/incoming/<int:doc_id>/", detail, name="eoffice-incoming-detail"),
    path("eoffice/incoming/<int:doc_id>/files/<int:version_id>/", version_file,
         name="eoffice-incoming-file"),
    path("eoffice/incoming/<int:doc_id>/assign/", assign, name="eoffice-incoming-assign"),
    path("eoffice/incoming/<int:doc_id>/assign/row/", assign_row,
         name="eoffice-incoming-assign-row"),
    path("eoffice/incoming/<int:doc_id>/file/", file_document, name="eoffice-incoming-file-in"),
    path("eoffice/incoming/assignments/<int:assignment_id>/pass-on/", pass_on,
         name="eoffice-incoming-pass-on"),
    path("eoffice/incoming/assignments/<int:assignment_id>/pass-on/row/", pass_on_row,
         name="eoffice-incoming-pass-on-row"),
    path("eoffice/incoming/assignments/<int:assignment_id>/progress/", progress,
         name="eoffice-incoming-progress"),
    path("eoffice/incoming/assignments/<int:assignment_id>/result/", result,
         name="eoffice-incoming-result"),
]
