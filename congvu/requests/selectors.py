"""Reading requests, with the same per-agency authorisation as the actions: an agency's
IT contact or clerk sees their own agency's subtree only; operators see everything."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db.models import BooleanField, Case, F, Q, QuerySet, Value, When
from django.utils.translation import gettext as _

from congvu.accounts.naming import BatchRow, Suggestion, parse_person_name, suggest_batch
from congvu.accounts.naming import person_agency_abbr as agency_abbr
from congvu.accounts.selectors import taken_local_parts, visible_agency_ids
from congvu.actors import Actor
from congvu.clock import iso
from congvu.directory.selectors import node_of
from congvu.errors import CongvuError, Forbidden, NotFound
from congvu.profiles import Profile
from congvu.requests.models import (
    OPEN_STATUSES,
    ItemAction,
    ItemStatus,
    RequestItem,
    RequestStatus,
    ServiceRequest,
)


def is_overdue(req: ServiceRequest, now: dt.datetime) -> bool:
    """Still open past its deadline."""
    return bool(req.status in OPEN_STATUSES and req.deadline_at and req.deadline_at < now)


def _base() -> QuerySet[ServiceRequest]:
    return ServiceRequest.objects.select_related("agency")


def _queue_order(qs: QuerySet[ServiceRequest], now: dt.datetime) -> QuerySet[ServiceRequest]:
    """Overdue first, then by deadline (soonest first; none last), then oldest first."""
    late = Case(When(Q(status__in=OPEN_STATUSES, deadline_at__lt=now), then=Value(True)),
                default=Value(False), output_field=BooleanField())
    return qs.annotate(late=late).order_by(
        F("late").desc(), F("deadline_at").asc(nulls_last=True), "filed_at", "id")


def queue_for(actor: Actor, now: dt.datetime) -> QuerySet[ServiceRequest]:
    """The operator's queue (issue 6): open requests, overdue ones first (flag them with
    :func:`is_overdue`), then by deadline (NB-6.2b, QN-5.2, QN-6.2, QN-7.1, NB-7.3b,
    NT-6.3b)."""
    actor.require_operator()
    return _queue_order(_base().filter(status__in=OPEN_STATUSES), now)


def requests_for(actor: Actor, now: dt.datetime, *, agency_ref: str | None = None,
                 status: str = "", overdue: bool = False) -> QuerySet[ServiceRequest]:
    """Requests ``actor`` may see: an agency contact's or clerk's own agencies' subtrees
    (naming another agency is Forbidden), everything for an operator; in queue order."""
    if actor.kind not in ("operator", "agency-it", "clerk"):
        raise Forbidden(_("%(actor)s may not see requests.") % {"actor": actor.label})
    if status and status not in RequestStatus.values:
        raise CongvuError(_("Unknown status %(status)r. Statuses: %(valid)s.") % {
            "status": status, "valid": ", ".join(RequestStatus.values)})
    ids = visible_agency_ids(actor, agency_ref)
    qs = _base()
    if ids is not None:
        qs = qs.filter(agency_id__in=ids)
    if status:
        qs = qs.filter(status=status)
    if overdue:
        qs = qs.filter(status__in=OPEN_STATUSES, deadline_at__lt=now)
    return _queue_order(qs, now)


def request_detail(actor: Actor, request_id: int) -> ServiceRequest:
    """One request with its rows; Forbidden for a request of another agency."""
    if actor.kind not in ("operator", "agency-it", "clerk"):
        raise Forbidden(_("%(actor)s may not see requests.") % {"actor": actor.label})
    req = _base().filter(pk=request_id).first()
    if req is None:
        raise NotFound(_("There is no request #%(id)s.") % {"id": request_id})
    actor.require_request_agency([a.pk for a in req.agency.ancestors()])
    return req


def items_of(req: ServiceRequest) -> QuerySet[RequestItem]:
    return req.items.select_related("unit", "new_unit", "account").order_by("number")


def suggestions_for(actor: Actor, profile: Profile,
                    req: ServiceRequest) -> dict[int, Suggestion]:
    """The operator's naming screen: for each person still to create, the address the
    profile gives and the free candidates, as one batch (QN-4.2 leaders first; NB-5.4,
    KH-3.3b ranked; NT-4.2b fallbacks), against every address in use or tombstoned.
    ``Suggestion.rule`` is the person rule, or the collision rule that applied."""
    actor.require_operator()
    items = [i for i in items_of(req) if i.action == ItemAction.CREATE_PERSON
             and i.status in (ItemStatus.PENDING, ItemStatus.FAILED)]
    if not items:
        return {}
    rows = [BatchRow(full_name=i.full_name, leader=i.leader,
                     agency=agency_abbr(profile, node_of(i.unit or req.agency))) for i in items]
    taken: set[str] = set()
    for given in {parse_person_name(i.full_name).given for i in items}:
        taken |= taken_local_parts(profile.mail.domain, containing=given)
    found = suggest_batch(profile, rows, taken, row_numbers=[i.number for i in items])
    return {i.number: s for i, s in zip(items, found, strict=True)}


def _item_json(item: RequestItem) -> dict[str, Any]:
    return {
        "number": item.number, "action": item.action, "status": item.status,
        "full_name": item.full_name or None, "position": item.position or None,
        "unit": item.unit.account_name if item.unit else None, "leader": item.leader,
        "birth_date": item.birth_date.isoformat() if item.birth_date else None,
        "address": item.address or None, "change_code": item.change_code,
        "new_value": item.new_value or None,
        "new_unit": item.new_unit.account_name if item.new_unit else None,
        "result_address": item.result_address or None, "rule": item.rule,
        "outcome": item.outcome,
    }


def request_json(req: ServiceRequest, profile: Profile, now: dt.datetime, *,
                 items: bool = True) -> dict[str, Any]:
    """What ``request show --json`` prints (and the console renders)."""
    tz = profile.timezone
    data: dict[str, Any] = {
        "id": req.pk, "kind": req.kind, "status": req.status,
        "agency": req.agency.account_name, "agency_name": req.agency.name,
        "requester": {"name": req.requester_name, "position": req.requester_position,
                      "phone": req.requester_phone},
        "reason": req.reason, "status_reason": req.status_reason,
        "effective_date": req.effective_date.isoformat() if req.effective_date else None,
        "filed_by": req.filed_by_label, "filed_at": iso(req.filed_at, tz),
        "sla": req.sla or None, "deadline": iso(req.deadline_at, tz),
        "deadline_rule": req.deadline_rule or None, "overdue": is_overdue(req, now),
        # Answered (or still open) after the deadline; a cancelled request is never late.
        "late": bool(req.deadline_at and req.status != RequestStatus.CANCELLED
                     and (req.closed_at or now) > req.deadline_at),
        "taken_by": req.taken_by_label or None, "taken_at": iso(req.taken_at, tz),
        "closed_at": iso(req.closed_at, tz),
    }
    if items:
        data["items"] = [_item_json(i) for i in items_of(req)]
    return data
