"""Notices (in-app) and the mail outbox, written inside the caller's transaction.

Urgent documents notify at once by mail as well (``[eoffice] mail_notices``); a notice
about a classified document names it by its number only, never its summary, and never
carries its file (KH-8.3).
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Iterable

from django.utils.translation import gettext as _

from congvu.accounts.models import Account, AccountState
from congvu.eoffice.access import effective_delegations
from congvu.eoffice.models import (
    Delegation,
    IncomingDocument,
    MailOutbox,
    Notice,
    OfficeRoleGrant,
    OutgoingDocument,
)
from congvu.eoffice.rules import CONFIDENTIALITY_WORDS, is_classified


def holders(agency_id: int, roles: Iterable[str], *, department_id: int | None = None,
            with_delegates_at: dt.datetime | None = None) -> list[int]:
    """Accounts holding ``roles`` in the agency (in that department), and, when
    ``with_delegates_at`` is given, the delegates acting for them at that moment."""
    wanted = list(roles)
    grants = OfficeRoleGrant.objects.filter(agency_id=agency_id, role__in=wanted)
    if department_id is not None:
        grants = grants.filter(department_id=department_id)
    ids = set(grants.values_list("account_id", flat=True))
    if with_delegates_at is not None and ids:
        for delegate, scope in Delegation.objects.filter(
                effective_delegations(with_delegates_at), agency_id=agency_id,
                delegator_id__in=ids).values_list("delegate_id", "roles"):
            if set(scope) & set(wanted):
                ids.add(delegate)
    return sorted(ids)


def incoming_title(doc: IncomingDocument) -> str:
    """How a notice names an incoming document; a classified one by number only."""
    number = f"{doc.number}/{doc.year}" if doc.number else f"#{doc.pk}"
    if is_classified(doc.confidentiality):
        return _("incoming document no. %(number)s (%(level)s)") % {
            "number": number, "level": CONFIDENTIALITY_WORDS[doc.confidentiality]}
    return _("incoming document no. %(number)s from %(issuer)s: %(summary)s") % {
        "number": number, "issuer": doc.issuer, "summary": doc.summary}


def outgoing_title(doc: OutgoingDocument) -> str:
    name = doc.number_text or f"#{doc.pk}"
    if is_classified(doc.confidentiality):
        return _("outgoing document %(number)s (%(level)s)") % {
            "number": name, "level": CONFIDENTIALITY_WORDS[doc.confidentiality]}
    return _("outgoing document %(number)s: %(summary)s") % {"number": name,
                                                           "summary": doc.summary}


def notify(recipient_ids: Iterable[int], *, kind: str, text: str, now: dt.datetime,
           rule: str = "", urgent: bool = False, mail: bool = False,
           incoming: IncomingDocument | None = None, outgoing: OutgoingDocument | None = None,
           delegation: Delegation | None = None, exclude: int | None = None) -> int:
    """One in-app notice per recipient (and one outbox mail to all of them when
    ``mail``); returns how many were notified."""
    ids = sorted({i for i in recipient_ids if i is not None and i != exclude})
    if not ids:
        return 0
    Notice.objects.bulk_create([
        Notice(recipient_id=i, kind=kind, text=text, rule=rule, urgent=urgent,
               incoming=incoming, outgoing=outgoing, delegation=delegation, created_at=now)
        for i in ids])
    if mail:
        addresses = list(Account.objects.filter(
            pk__in=ids, state__in=(AccountState.ACTIVE, AccountState.SUSPENDED))
            .values_list("address", flat=True))
        if addresses:
            subject = (_("[Urgent] %(text)s") if urgent else "%(text)s") % {"text": text}
            MailOutbox.objects.create(
                recipients=", ".join(sorted(addresses)), subject=subject[:500],
                body=text + "\n\n" + _("Open eOffice to handle it."), rule=rule,
                incoming=incoming, outgoing=outgoing, created_at=now)
    return len(ids)
