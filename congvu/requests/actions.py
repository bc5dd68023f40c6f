"""Writing requests: file, take, fulfil (row by row), refuse a row, reject, cancel.

Every function takes an explicit actor, checks it here (not in the views), runs in a
transaction and audits each transition (who, when, rule, why). Fulfilment runs each row
in its own transaction: a row that fails is recorded with its reason and leaves nothing
half-written, the others proceed.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.clock import iso
from congvu.directory.selectors import agency_by_ref
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.profiles import Profile
from congvu.requests.filing import RequestForm, validate
from congvu.requests.fulfil import HANDLERS
from congvu.requests.models import (
    OPEN_STATUSES,
    ItemAction,
    ItemStatus,
    RequestItem,
    RequestKind,
    RequestStatus,
    ServiceRequest,
)
from congvu.requests.sla import deadline_for

R = RequestStatus
_UNSETTLED = (ItemStatus.PENDING, ItemStatus.FAILED)


def locked_request(request_id: int) -> ServiceRequest:
    """The request, locked for this transaction (two operators never process one row
    twice), or NotFound."""
    req = (ServiceRequest.objects.select_for_update(of=("self",)).select_related("agency")
           .filter(pk=request_id).first())
    if req is None:
        raise NotFound(_("There is no request #%(id)s.") % {"id": request_id})
    return req


def _ancestors(req: ServiceRequest) -> list[int]:
    return [a.pk for a in req.agency.ancestors()]


def _require_open(req: ServiceRequest) -> None:
    if req.status not in OPEN_STATUSES:
        raise Forbidden(_("Request #%(id)s is %(status)s; it can no longer change.") % {
            "id": req.pk, "status": req.status})


def do_file_request(*, actor: Actor, profile: Profile, kind: str, agency_ref: str,
                    form: RequestForm, now: dt.datetime) -> ServiceRequest:
    """File a request for ``agency_ref`` (issue 6): an agency's IT contact or clerk for
    their own agency and its units only, an operator for any. Every field is checked
    first (:class:`~congvu.requests.filing.RequestInvalid` lists each problem); the
    deadline comes from the profile's SLA for the kind (NB-6.2b, QN-5.2, QN-6.2, QN-7.1,
    NB-7.3b, NT-6.3b) and is stored with its rule."""
    if kind not in RequestKind.values:
        raise CongvuError(_("Unknown kind of request %(kind)r. Kinds: %(valid)s.") % {
            "kind": kind, "valid": ", ".join(RequestKind.values)})
    if actor.kind not in ("operator", "agency-it", "clerk"):
        raise Forbidden(_("%(actor)s may not file requests: an agency's IT contact or clerk "
                          "files them.") % {"actor": actor.label})
    with transaction.atomic():
        agency = agency_by_ref(agency_ref)
        actor.require_request_agency([a.pk for a in agency.ancestors()])
        filer = (Account.objects.select_related("person").filter(pk=actor.account_id).first()
                 if actor.account_id else None)
        checked = validate(profile=profile, kind=kind, agency=agency, form=form, filer=filer,
                           now=now)
        due = deadline_for(profile, kind, now)
        req = ServiceRequest.objects.create(
            kind=kind, agency=agency, requester_name=checked.requester_name,
            requester_position=checked.requester_position,
            requester_phone=checked.requester_phone, reason=checked.reason,
            effective_date=checked.effective_date, filed_by=filer, filed_by_label=actor.label,
            filed_at=now, sla=str(due.span) if due else "", deadline_at=due.at if due else None,
            deadline_rule=due.rule if due else "")
        for item in checked.items:
            item.request = req
        RequestItem.objects.bulk_create(checked.items)
        record(actor=actor, action="request.file", at=now, target=req.target,
               rule=req.deadline_rule,
               data={"kind": kind, "agency": agency.account_name, "items": len(checked.items),
                     "deadline": iso(req.deadline_at, profile.timezone), "sla": req.sla})
    return req


def _take(actor: Actor, req: ServiceRequest, now: dt.datetime) -> None:
    req.status = R.IN_PROGRESS
    req.taken_by_label = actor.label
    req.taken_at = now
    req.save(update_fields=["status", "taken_by_label", "taken_at"])
    record(actor=actor, action="request.take", at=now, target=req.target,
           rule=req.deadline_rule)


def do_take_request(*, actor: Actor, request_id: int, now: dt.datetime) -> ServiceRequest:
    """An operator takes a filed request: it is in progress, the filer can no longer
    cancel it."""
    actor.require_operator()
    with transaction.atomic():
        req = locked_request(request_id)
        if req.status != R.FILED:
            raise Forbidden(_("Request #%(id)s is %(status)s (taken by %(who)s); only a filed "
                              "request can be taken.") % {
                "id": req.pk, "status": req.status, "who": req.taken_by_label or "—"})
        _take(actor, req, now)
    return req


def do_cancel_request(*, actor: Actor, request_id: int, now: dt.datetime,
                      reason: str = "") -> ServiceRequest:
    """The filing agency withdraws its request while no operator has taken it."""
    with transaction.atomic():
        req = locked_request(request_id)
        actor.require_request_agency(_ancestors(req))
        if req.status != R.FILED:
            raise Forbidden(_("Request #%(id)s is %(status)s; only a request no operator has "
                              "taken yet can be cancelled (ask the operator to reject it).") % {
                "id": req.pk, "status": req.status})
        req.status = R.CANCELLED
        req.closed_at = now
        req.status_reason = reason.strip()
        req.save(update_fields=["status", "closed_at", "status_reason"])
        record(actor=actor, action="request.cancel", at=now, target=req.target,
               reason=req.status_reason)
    return req


def _settle(actor: Actor, req: ServiceRequest, now: dt.datetime) -> None:
    """Close the request once every row is done or refused: done, partly done, or
    rejected; whether the deadline was met is recorded."""
    statuses = list(req.items.values_list("status", flat=True))
    if any(s in _UNSETTLED for s in statuses):
        return
    done = sum(s == ItemStatus.DONE for s in statuses)
    req.status = (R.DONE if done == len(statuses) else R.PARTLY_DONE if done else R.REJECTED)
    req.closed_at = now
    req.save(update_fields=["status", "closed_at"])
    late = bool(req.deadline_at and now > req.deadline_at)
    record(actor=actor, action="request.close", at=now, target=req.target,
           rule=req.deadline_rule, reason=req.status_reason,
           data={"status": req.status, "done": done, "refused": len(statuses) - done,
                 "late": late})


def do_reject_request(*, actor: Actor, request_id: int, reason: str,
                      now: dt.datetime) -> ServiceRequest:
    """An operator refuses every row not yet done, with the reason the agency is told."""
    actor.require_operator()
    why = reason.strip()
    if not why:
        raise CongvuError(_("Reason: required; the agency is told why its request is "
                            "rejected."))
    with transaction.atomic():
        req = locked_request(request_id)
        _require_open(req)
        req.status_reason = why
        req.save(update_fields=["status_reason"])  # the agency is told why
        req.items.filter(status__in=_UNSETTLED).update(status=ItemStatus.REFUSED, outcome=why,
                                                       done_at=now)
        record(actor=actor, action="request.reject", at=now, target=req.target, reason=why)
        _settle(actor, req, now)
    return req


def do_refuse_item(*, actor: Actor, request_id: int, number: int, reason: str,
                   now: dt.datetime) -> ServiceRequest:
    """An operator refuses one row (e.g. a name the agency must correct) with a reason."""
    actor.require_operator()
    why = reason.strip()
    if not why:
        raise CongvuError(_("Reason: required; the agency is told why the row is refused."))
    with transaction.atomic():
        req = locked_request(request_id)
        _require_open(req)
        item = _item(req, number)
        if item.status not in _UNSETTLED:
            raise Forbidden(_("Row %(n)d of request #%(id)s is already %(status)s.") % {
                "n": number, "id": req.pk, "status": item.status})
        if req.status == R.FILED:
            _take(actor, req, now)
        item.status, item.outcome, item.done_at = ItemStatus.REFUSED, why, now
        item.save(update_fields=["status", "outcome", "done_at"])
        record(actor=actor, action="request.item_refuse", at=now, target=req.target,
               reason=why, data={"item": number, "action": item.action})
        _settle(actor, req, now)
    return req


def _item(req: ServiceRequest, number: int) -> RequestItem:
    item = req.items.filter(number=number).first()
    if item is None:
        raise NotFound(_("Request #%(id)s has no row %(n)d.") % {"id": req.pk, "n": number})
    return item


@dataclass(frozen=True)
class ItemOutcome:
    """One row's result. ``one_time_password`` is returned to the caller once and never
    stored: the console or CLI shows it once."""

    number: int
    action: str
    status: str
    address: str = ""
    rule: str = ""
    message: str = ""
    one_time_password: str | None = None

    def to_json(self) -> dict[str, Any]:
        return {"number": self.number, "action": self.action, "status": self.status,
                "address": self.address or None, "rule": self.rule, "message": self.message,
                "one_time_password": self.one_time_password}


@dataclass(frozen=True)
class Fulfilment:
    request: ServiceRequest
    outcomes: list[ItemOutcome]


def _order(item: RequestItem) -> tuple[int, int]:
    """Agency mailboxes, then leaders (QN-4.2: a leader keeps the base name wherever the
    form lists them), then the other rows, each in the form's order."""
    if item.action == ItemAction.CREATE_AGENCY_MAILBOX:
        return (0, item.number)
    if item.action == ItemAction.CREATE_PERSON and item.leader:
        return (1, item.number)
    return (2, item.number)


def _fulfil_item(actor: Actor, profile: Profile, req: ServiceRequest, item_id: int,
                 choice: str, now: dt.datetime) -> ItemOutcome | None:
    """One row in its own transaction; on a refusal by the accounts layer the row is
    marked failed (with the reason) in a second one."""
    try:
        with transaction.atomic():
            item = (RequestItem.objects.select_for_update(of=("self",))
                    .select_related("account", "unit", "new_unit").get(pk=item_id))
            if item.status not in _UNSETTLED:
                return None  # another operator got here first
            done = HANDLERS[item.action](actor, profile, req, item, choice, now)
            item.status, item.account, item.done_at = ItemStatus.DONE, done.account, now
            item.result_address, item.rule, item.outcome = done.account.address, done.rule, ""
            item.save(update_fields=["status", "account", "done_at", "result_address", "rule",
                                     "outcome"])
            record(actor=actor, action="request.item_done", at=now, target=req.target,
                   rule=done.rule, data={"item": item.number, "action": item.action,
                                         "address": done.account.address})
        return ItemOutcome(item.number, item.action, ItemStatus.DONE, done.account.address,
                           done.rule, one_time_password=done.one_time_password)
    except CongvuError as exc:
        with transaction.atomic():
            item = RequestItem.objects.select_for_update(of=("self",)).get(pk=item_id)
            item.status, item.outcome, item.rule = ItemStatus.FAILED, exc.message, exc.rule
            item.save(update_fields=["status", "outcome", "rule"])
            record(actor=actor, action="request.item_failed", at=now, target=req.target,
                   rule=exc.rule, reason=exc.message,
                   data={"item": item.number, "action": item.action})
        return ItemOutcome(item.number, item.action, ItemStatus.FAILED, rule=exc.rule,
                           message=exc.message)


def do_fulfil(*, actor: Actor, profile: Profile, request_id: int, now: dt.datetime,
              numbers: Iterable[int] | None = None,
              addresses: Mapping[int, str] | None = None) -> Fulfilment:
    """An operator carries out the rows ``numbers`` (default: every row not yet done)
    through the accounts actions: create (the profile's naming, or ``addresses[n]``, the
    operator's pick among the candidates), change position/department/address, leave,
    restore, re-issue a password. A filed request is taken first. The request closes
    when every row is done or refused."""
    actor.require_operator()
    choices = dict(addresses or {})
    with transaction.atomic():
        req = locked_request(request_id)
        _require_open(req)
        items = list(req.items.all())
        by_number = {i.number: i for i in items}
        wanted = sorted(set(numbers)) if numbers is not None else None
        for n in [*(wanted or []), *choices]:
            if n not in by_number:
                raise NotFound(_("Request #%(id)s has no row %(n)d.") % {"id": req.pk, "n": n})
        for n in choices:
            if by_number[n].action != ItemAction.CREATE_PERSON:
                raise CongvuError(_("Row %(n)d does not create a mailbox for a person; an "
                                    "address is chosen only for those.") % {"n": n})
        if wanted is not None:
            for n in wanted:
                if by_number[n].status not in _UNSETTLED:
                    raise Forbidden(_("Row %(n)d of request #%(id)s is already %(status)s.") % {
                        "n": n, "id": req.pk, "status": by_number[n].status})
        if req.status == R.FILED:
            _take(actor, req, now)
    todo = sorted((i for i in items if i.status in _UNSETTLED
                   and (wanted is None or i.number in wanted)), key=_order)
    outcomes = [o for o in (_fulfil_item(actor, profile, req, i.pk, choices.get(i.number, ""),
                                         now) for i in todo) if o is not None]
    with transaction.atomic():
        req = locked_request(request_id)
        if req.status in OPEN_STATUSES:
            _settle(actor, req, now)
    return Fulfilment(req, sorted(outcomes, key=lambda o: o.number))
