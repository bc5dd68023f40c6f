"""One outgoing document (GL-10): its fields, every version with its file (GL-10.8), the
review rounds with their deadlines (GL-10.7), comments and decisions, the number once
numbered (``Số: 243/QĐ-STTTT``), where it went once issued, and the actions the reader
may take now (upload a version, submit, comment, return, forward, approve, number,
issue). Each action posts to its own URL, calls its ``do_*`` and comes back here; a
refusal or a mistake is shown beside the form it came from, nothing written."""

from __future__ import annotations

import datetime as dt
from collections.abc import Callable
from typing import Any

from django import forms
from django.contrib import messages
from django.http import Http404, HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import render
from django.urls import URLPattern, path
from django.utils.http import content_disposition_header
from django.utils.translation import gettext as _
from django.views.decorators.http import require_GET, require_POST

from congvu import clock, deployment
from congvu.actors import Actor
from congvu.console.pages.eoffice_outgoing_common import due_text, status_label, type_name, who
from congvu.console.pages.eoffice_outgoing_forms import (
    ApproveForm,
    CommentForm,
    ForwardForm,
    IssueForm,
    ReturnForm,
    VersionForm,
)
from congvu.console.views import console_view, local_date, local_time
from congvu.eoffice import actions, drafting, rules
from congvu.eoffice.models import (
    Decision,
    DistributionChannel,
    LinkKind,
    Mark,
    OutgoingDocument,
    ReviewStage,
)
from congvu.eoffice.params import deployment_params
from congvu.eoffice.rules import Series
from congvu.eoffice.selectors import outgoing_detail, rounds, version_content, versions
from congvu.errors import CongvuError, Forbidden
from congvu.profiles import Profile
from congvu.workdays import calendar_for

URL = "/console/eoffice/outgoing/{id}/"


def _label(choices: Any, value: str) -> str:
    try:
        return str(choices(value).label) if value else ""
    except ValueError:
        return value


def _issue_form(doc: OutgoingDocument, data: Any = None) -> IssueForm:
    choices = drafting.issue_choices(doc)
    units = [(u.pk, _("%(name)s (everyone in the agency)") % {"name": u.name}
              if u.pk == doc.agency_id else u.name) for u in choices.units]
    return IssueForm(data, people=choices.people, units=units,
                     agencies=[(a.pk, a.name) for a in choices.agencies])


def _forms(doc: OutgoingDocument, profile: Profile) -> dict[str, forms.Form]:
    params = deployment_params(profile)
    return {"version": VersionForm(params=params), "comment": CommentForm(prefix="c"),
            "return": ReturnForm(prefix="r"), "forward": ForwardForm(prefix="f"),
            "approve": ApproveForm(prefix="a"), "issue": _issue_form(doc)}


def _rounds(actor: Actor, now: dt.datetime, doc: OutgoingDocument,
            profile: Profile) -> list[dict[str, Any]]:
    cal = calendar_for(profile)
    tz = profile.timezone
    found = []
    for r in rounds(actor, now, doc.pk):
        due = drafting.due_state(cal, r.decided_at or now, r.due_at)
        found.append({
            "number": r.number, "stage": _label(ReviewStage, r.stage),
            "version": r.version.number, "submitted": local_time(r.submitted_at, tz),
            "submitted_by": who(r.submitted_by_label), "due": local_time(r.due_at, tz),
            "rule": r.due_rule or rules.RULE_REVIEW_DAYS,
            "due_text": due_text(due) if r.is_open else "",
            "overdue": due.overdue, "open": r.is_open,
            "decision": _label(Decision, r.decision), "decision_key": r.decision,
            "decided": local_time(r.decided_at, tz) if r.decided_at else "",
            "decided_by": who(r.decided_by_label), "disagreement": r.disagreement,
            "late": r.decided_at is not None and r.decided_at > r.due_at,
            "comments": [{"author": who(c.author_label), "at": local_time(c.at, tz),
                          "text": c.text, "mark": c.mark}
                         for c in r.comments.all()]})
    return found


def _distributions(doc: OutgoingDocument) -> list[dict[str, str]]:
    found = []
    for d in doc.distributions.select_related("to_agency", "to_account__person"):
        if d.to_account is not None:
            person = d.to_account.person
            who = f"{person.full_name} ({d.to_account.address})" if person else \
                d.to_account.address
        elif d.to_agency is not None:
            who = d.to_agency.name
        else:
            who = d.address
        how = _label(DistributionChannel, d.channel)
        if d.incoming_id:
            how = _("Inter-agency exchange (to their intake)")
        found.append({"who": who, "how": how})
    return found


def render_detail(request: HttpRequest, actor: Actor, document_id: int, *,
                  bound: dict[str, forms.Form] | None = None,
                  errors: dict[str, str] | None = None, status: int = 200) -> HttpResponse:
    now = clock.now()
    doc = outgoing_detail(actor, now, document_id)
    profile = deployment.deployment_profile()
    tz = profile.timezone
    can = drafting.permitted(actor, now, doc)
    all_forms = {**_forms(doc, profile), **(bound or {})}
    files = [{"id": v.pk, "number": v.number, "name": v.original_name,
              "size_kb": max(1, (v.size + 1023) // 1024), "mime": v.mime,
              "mark": v.mark, "mark_label": _label(Mark, v.mark), "note": v.note,
              "by": who(v.created_by_label), "at": local_time(v.created_at, tz),
              "pdf": v.mime == "application/pdf",
              "url": f"{URL.format(id=doc.pk)}versions/{v.pk}/"}
             for v in versions(actor, now, outgoing_id=doc.pk)]
    current = drafting.open_round(doc)
    classified = rules.is_classified(doc.confidentiality)
    return render(request, "console/eoffice/outgoing/detail.html", {
        "doc": doc, "type": type_name(doc.doc_type), "status": status_label(doc),
        "urgency": rules.URGENCY_WORDS[doc.urgency],
        "secrecy": rules.CONFIDENTIALITY_WORDS[doc.confidentiality],
        "classified": classified, "department": doc.department.name if doc.department else "",
        "deadline": local_date(doc.deadline), "created": local_time(doc.created_at, tz),
        "drafter": who(doc.drafter_label), "approved_by": who(doc.approved_by_label),
        "numbered_by": who(doc.numbered_by_label), "issued_by": who(doc.issued_by_label),
        "approved": local_time(doc.approved_at, tz) if doc.approved_at else "",
        "numbered": local_time(doc.numbered_at, tz) if doc.numbered_at else "",
        "issued": local_time(doc.issued_at, tz) if doc.issued_at else "",
        "document_date": local_date(doc.document_date),
        "series": _label(Series, doc.series),
        "next_series": _label(Series, rules.series_for(doc.doc_type, doc.confidentiality,
                                                       doc.normative)),
        "files": files, "latest_pdf": bool(files) and files[-1]["pdf"],
        "rounds": _rounds(actor, now, doc, profile),
        "current_stage": current.stage if current else "",
        "links": drafting.links(actor, now, doc), "reply_kind": LinkKind.REPLY_TO,
        "distributions": _distributions(doc), "can": can, "forms": all_forms,
        "errors": errors or {}, "timezone": tz, "url": URL.format(id=doc.pk)},
        status=status)


# --- the actions ----------------------------------------------------------------------------

Handler = Callable[[HttpRequest, Actor, OutgoingDocument, Profile, dt.datetime],
                   "forms.Form | str"]


def _version(request: HttpRequest, actor: Actor, doc: OutgoingDocument, profile: Profile,
             now: dt.datetime) -> forms.Form | str:
    form = VersionForm(request.POST, request.FILES, params=deployment_params(profile))
    if not form.is_valid():
        return form
    v = actions.do_add_version(actor=actor, outgoing_id=doc.pk, upload=form.upload(),
                               now=now, profile=profile, note=form.cleaned_data["note"])
    return _("Version %(n)d is uploaded.") % {"n": v.number}


def _submit(request: HttpRequest, actor: Actor, doc: OutgoingDocument, profile: Profile,
            now: dt.datetime) -> forms.Form | str:
    r = actions.do_submit_outgoing(actor=actor, profile=profile, outgoing_id=doc.pk, now=now)
    to = _("the head of department") if r.stage == ReviewStage.DEPARTMENT else \
        _("the director")
    return _("Submitted to %(to)s (round %(n)d); the review is due by %(due)s (%(rule)s).") % {
        "to": to, "n": r.number, "due": local_time(r.due_at, profile.timezone),
        "rule": r.due_rule or rules.RULE_REVIEW_DAYS}


def _comment(request: HttpRequest, actor: Actor, doc: OutgoingDocument, profile: Profile,
             now: dt.datetime) -> forms.Form | str:
    form = CommentForm(request.POST, prefix="c")
    if not form.is_valid():
        return form
    actions.do_comment_draft(actor=actor, outgoing_id=doc.pk,
                             text=form.cleaned_data["comment"], now=now)
    return _("Your comment is recorded with this round.")


def _return(request: HttpRequest, actor: Actor, doc: OutgoingDocument, profile: Profile,
            now: dt.datetime) -> forms.Form | str:
    form = ReturnForm(request.POST, prefix="r")
    if not form.is_valid():
        return form
    back = actions.do_return_draft(actor=actor, profile=profile, outgoing_id=doc.pk,
                                   comment=form.cleaned_data["comment"], now=now,
                                   to_department=form.cleaned_data["to_department"])
    if back.stage == ReviewStage.DEPARTMENT:
        return _("Returned to the head of department with your comment.")
    return _("Returned to the drafter with your comment.")


def _forward(request: HttpRequest, actor: Actor, doc: OutgoingDocument, profile: Profile,
             now: dt.datetime) -> forms.Form | str:
    form = ForwardForm(request.POST, prefix="f")
    if not form.is_valid():
        return form
    r = actions.do_forward_draft(actor=actor, profile=profile, outgoing_id=doc.pk, now=now,
                                 comment=form.cleaned_data["comment"],
                                 disagreement=form.cleaned_data["disagreement"])
    return _("Forwarded to the director (round %(n)d), due by %(due)s.") % {
        "n": r.number, "due": local_time(r.due_at, profile.timezone)}


def _approve(request: HttpRequest, actor: Actor, doc: OutgoingDocument, profile: Profile,
             now: dt.datetime) -> forms.Form | str:
    form = ApproveForm(request.POST, prefix="a")
    if not form.is_valid():
        return form
    actions.do_approve_draft(actor=actor, outgoing_id=doc.pk, now=now,
                             comment=form.cleaned_data["comment"])
    return _("Approved: the clerks number and issue it.")


def _number(request: HttpRequest, actor: Actor, doc: OutgoingDocument, profile: Profile,
            now: dt.datetime) -> forms.Form | str:
    done = actions.do_number_outgoing(actor=actor, profile=profile, outgoing_id=doc.pk,
                                      now=now)
    return _("Numbered in the register of %(series)s %(year)d: %(number)s.") % {
        "series": _label(Series, done.series).lower(), "year": done.year or 0,
        "number": done.number_text}


def _issue(request: HttpRequest, actor: Actor, doc: OutgoingDocument, profile: Profile,
           now: dt.datetime) -> forms.Form | str:
    form = _issue_form(doc, request.POST)
    if not form.is_valid():
        return form
    d = form.cleaned_data
    addresses = form.addresses()
    actions.do_issue_outgoing(actor=actor, profile=profile, outgoing_id=doc.pk, now=now,
                              accounts=d["accounts"], units=d["units"],
                              agencies=d["agencies"], emails=addresses)
    if addresses:
        return _("Issued. The official e-mail to %(n)d address(es) is queued with the "
                 "summary as its subject (KH-7).") % {"n": len(addresses)}
    return _("Issued.")


ACTIONS: dict[str, Handler] = {
    "version": _version, "submit": _submit, "comment": _comment, "return": _return,
    "forward": _forward, "approve": _approve, "number": _number, "issue": _issue,
}


def _action_view(name: str) -> Callable[..., HttpResponse]:
    handler = ACTIONS[name]

    def view(request: HttpRequest, actor: Actor, document_id: int) -> HttpResponse:
        now = clock.now()
        doc = outgoing_detail(actor, now, document_id)  # 403/404 before anything else
        profile = deployment.deployment_profile()
        try:
            outcome = handler(request, actor, doc, profile, now)
        except CongvuError as exc:
            return render_detail(request, actor, document_id, errors={name: exc.message},
                                 status=403 if isinstance(exc, Forbidden) else 400)
        if isinstance(outcome, forms.Form):
            return render_detail(request, actor, document_id, bound={name: outcome},
                                 status=400)
        messages.success(request, outcome)
        return HttpResponseRedirect(URL.format(id=document_id))

    view.__name__ = f"outgoing_{name}"
    return console_view(require_POST(view))


# --- pages --------------------------------------------------------------------------------


@console_view
@require_GET
def document_page(request: HttpRequest, actor: Actor, document_id: int) -> HttpResponse:
    return render_detail(request, actor, document_id)


@console_view
@require_GET
def version_file(request: HttpRequest, actor: Actor, document_id: int,
                 version_id: int) -> HttpResponse:
    """A version's file, if the document is readable (selectors.version_content)."""
    version, content = version_content(actor, clock.now(), version_id)
    if version.outgoing_id != document_id:
        raise Http404
    resp = HttpResponse(content, content_type=version.mime)
    resp["Content-Disposition"] = content_disposition_header(
        True, version.original_name) or "attachment"
    resp["X-Content-Type-Options"] = "nosniff"
    return resp


urlpatterns: list[URLPattern] = [
    path("eoffice/outgoing/<int:document_id>/", document_page, name="eoffice-outgoing-detail"),
    path("eoffice/outgoing/<int:document_id>/versions/<int:version_id>/", version_file,
         name="eoffice-outgoing-file"),
    *[path(f"eoffice/outgoing/<int:document_id>/{name}/", _action_view(name),
           name=f"eoffice-outgoing-{name}") for name in ACTIONS],
]
