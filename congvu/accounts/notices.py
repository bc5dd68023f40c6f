"""Notices to holders and their agencies when an account is suspended (QN-7.2: "the
holder and the agency are notified"). Enqueued in the transaction of the change;
``congvu.mail.outbox`` delivers them."""

from __future__ import annotations

import datetime as dt
from collections.abc import Sequence

from django.utils import translation
from django.utils.translation import gettext as _

from congvu.accounts.models import Account, AccountKind, AccountState, Notice

_RECEIVING = (AccountState.ACTIVE, AccountState.SUSPENDED)


def enqueue_suspension_notices(ids: Sequence[int], *, rule: str, reason: str,
                               now: dt.datetime, operator: str = "") -> int:
    """One notice per suspended account, to the holder (a suspended mailbox still
    receives, NB-7.1) and to their agency's mailbox when it has one."""
    accounts = list(Account.objects.filter(id__in=ids).select_related("agency"))
    agency_boxes = dict(Account.objects.filter(
        kind=AccountKind.AGENCY, state__in=_RECEIVING,
        agency_id__in={a.agency_id for a in accounts if a.agency_id},
    ).values_list("agency_id", "address"))
    notices = []
    with translation.override("vi"):
        for acct in accounts:
            to = [acct.address]
            box = agency_boxes.get(acct.agency_id) if acct.agency_id else None
            if box and box != acct.address:
                to.append(box)
            notices.append(Notice(
                account=acct, recipients=",".join(to), rule=rule, created_at=now,
                subject=_("Account %(address)s has been suspended (%(rule)s)") % {
                    "address": acct.address, "rule": rule},
                body=_("The account %(address)s was suspended on %(when)s under %(rule)s.\n"
                       "Reason: %(reason)s\n\n"
                       "The mailbox still receives mail, but nobody can sign in until it is "
                       "restored. To restore it, the agency sends a request to the mail "
                       "operator%(operator)s, who verifies it and issues a new one-time "
                       "password to be changed at the first sign-in.") % {
                    "address": acct.address, "rule": rule, "reason": reason or "—",
                    "when": now.strftime("%Y-%m-%d %H:%M"),
                    "operator": f" ({operator})" if operator else ""},
            ))
    Notice.objects.bulk_create(notices, batch_size=2000)
    return len(notices)
