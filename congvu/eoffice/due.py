"""The eOffice's time-based rules, for the tasks worker: ``run_due(now)``.

- GL-10.7: a review round still open past its reviewer's deadline is escalated: the
  reviewers, their superiors (the agency's director for a department head; the director
  in person for a deputy's or a delegate's round) and the drafter are notified.
- Decree 30 Art. 23 (``ND30-23``): a document received but not registered by its due
  time (same or next working day; urgent: at once) is flagged to the clerks and leaders.
- Missed assignment deadlines (GL-13.1: heads of department follow up their people) are
  flagged to the handler and to whoever assigned it (``[eoffice] escalate_assignments``).

Set-based and idempotent: each overdue item is escalated once (``escalated_at``), in its
own transaction with its audit event; running it again changes nothing.
"""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.db import transaction
from django.utils.translation import gettext as _

from congvu.actors import Actor
from congvu.audit.actions import record
from congvu.clock import iso
from congvu.eoffice import notify, rules
from congvu.eoffice.models import (
    LEADERS,
    Assignment,
    AssignmentStatus,
    IncomingDocument,
    IncomingStatus,
    OfficeRole,
    ReviewRound,
    ReviewStage,
)
from congvu.eoffice.params import EofficeParams, deployment_params
from congvu.profiles import Profile
from congvu.workdays import calendar_for

SYSTEM = Actor(kind="system", label="system:eoffice")
R = OfficeRole
_BATCH = 500


def run_due(now: dt.datetime, *, profile: Profile | None = None,
            params: EofficeParams | None = None) -> dict[str, Any]:
    """Escalate everything overdue at ``now``; returns how many of each."""
    if profile is None:
        from congvu.deployment import deployment_profile

        profile = deployment_profile()
    p = params if params is not None else deployment_params(profile)
    return {"reviews": _reviews(now, profile),
            "registrations": _registrations(now, profile),
            "assignments": _assignments(now, profile) if p.escalate_assignments else 0}


def _reviews(now: dt.datetime, profile: Profile) -> int:
    count = 0
    ids = list(ReviewRound.objects.filter(decided_at__isnull=True, due_at__lt=now,
                                          escalated_at__isnull=True)
               .values_list("pk", flat=True)[:_BATCH])
    for pk in ids:
        with transaction.atomic():
            current = (ReviewRound.objects.select_for_update().select_related("outgoing")
                       .filter(pk=pk, decided_at__isnull=True, escalated_at__isnull=True)
                       .first())
            if current is None:
                continue
            doc = current.outgoing
            classified = rules.is_classified(doc.confidentiality)
            if current.stage == ReviewStage.DEPARTMENT:
                reviewers = notify.holders(doc.agency_id, [R.DEPARTMENT_HEAD],
                                           department_id=current.department_id)
                superiors = notify.holders(doc.agency_id,
                                           [R.DIRECTOR] if classified else list(LEADERS))
            else:
                reviewers = notify.holders(doc.agency_id,
                                           [R.DIRECTOR] if classified else list(LEADERS))
                superiors = notify.holders(doc.agency_id, [R.DIRECTOR])
            text = _("Review overdue since %(due)s (%(rule)s): %(title)s") % {
                "due": iso(current.due_at, profile.timezone), "rule": current.due_rule,
                "title": notify.outgoing_title(doc)}
            notify.notify({*reviewers, *superiors, doc.drafter_id}, kind="outgoing.overdue",
                          text=text, now=now, rule=current.due_rule or rules.RULE_REVIEW_DAYS,
                          urgent=True, outgoing=doc)
            current.escalated_at = now
            current.save(update_fields=["escalated_at"])
            record(actor=SYSTEM, action="eoffice.review_overdue", at=now, target=doc.target,
                   rule=current.due_rule or rules.RULE_REVIEW_DAYS,
                   data={"round": current.number, "stage": current.stage,
                         "due": iso(current.due_at, profile.timezone)})
            count += 1
    return count


def _registrations(now: dt.datetime, profile: Profile) -> int:
    count = 0
    ids = list(IncomingDocument.objects.filter(status=IncomingStatus.RECEIVED,
                                               registration_due_at__lt=now,
                                               escalated_at__isnull=True)
               .values_list("pk", flat=True)[:_BATCH])
    for pk in ids:
        with transaction.atomic():
            doc = IncomingDocument.objects.select_for_update().filter(
                pk=pk, status=IncomingStatus.RECEIVED, escalated_at__isnull=True).first()
            if doc is None:
                continue
            text = _("Not registered by %(due)s (Decree 30, Art. 23): %(title)s") % {
                "due": iso(doc.registration_due_at, profile.timezone),
                "title": notify.incoming_title(doc)}
            leaders = [R.DIRECTOR] if rules.is_classified(doc.confidentiality) else LEADERS
            notify.notify({*notify.holders(doc.agency_id, [R.CLERK]),
                           *notify.holders(doc.agency_id, leaders)},
                          kind="incoming.late", text=text, now=now,
                          rule=rules.RULE_REGISTRATION, urgent=True, incoming=doc)
            doc.escalated_at = now
            doc.save(update_fields=["escalated_at"])
            record(actor=SYSTEM, action="eoffice.registration_overdue", at=now,
                   target=doc.target, rule=rules.RULE_REGISTRATION,
                   data={"due": iso(doc.registration_due_at, profile.timezone)})
            count += 1
    return count


def _assignments(now: dt.datetime, profile: Profile) -> int:
    today = rules.local_date(calendar_for(profile), now)
    count = 0
    ids = list(Assignment.objects.filter(
        status__in=(AssignmentStatus.PENDING, AssignmentStatus.IN_PROGRESS,
                    AssignmentStatus.PASSED_ON),
        kind__in=rules.ACTIONABLE, deadline__lt=today, escalated_at__isnull=True)
        .values_list("pk", flat=True)[:_BATCH])
    for pk in ids:
        with transaction.atomic():
            assignment = (Assignment.objects.select_for_update().select_related("document")
                          .filter(pk=pk, escalated_at__isnull=True).first())
            if assignment is None or assignment.status == AssignmentStatus.DONE:
                continue
            doc = assignment.document
            handlers = ([assignment.to_account_id] if assignment.to_account_id else
                        notify.holders(doc.agency_id, [R.DEPARTMENT_HEAD],
                                       department_id=assignment.to_department_id))
            deadline = assignment.deadline.isoformat() if assignment.deadline else ""
            text = _("Deadline %(date)s missed: %(title)s") % {
                "date": deadline, "title": notify.incoming_title(doc)}
            notify.notify({*handlers, assignment.from_account_id or 0} - {0},
                          kind="incoming.overdue", text=text, now=now,
                          rule=rules.RULE_ASSIGN, urgent=True, incoming=doc)
            assignment.escalated_at = now
            assignment.save(update_fields=["escalated_at"])
            record(actor=SYSTEM, action="eoffice.assignment_overdue", at=now,
                   target=assignment.target, rule=rules.RULE_ASSIGN,
                   data={"deadline": deadline})
            count += 1
    return count
