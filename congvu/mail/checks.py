"""Mailbox checks (NB-9.2, KH-10): how many times each mailbox is checked per day.

NB-9.2 wants an agency mailbox checked at least twice per working day; KH-10 at least
three times for an agency mailbox and twice for a personal one. The minimums and their
rules are the profile's (``[checks]``, ``[check_rules]``); a profile without them
regulates nothing and the counts are for information only.

What counts as a check: a successful sign-in to the mailbox over IMAP or POP3, which is
also how webmail reads it. Dovecot reports each one to the auth-policy endpoint
(:mod:`congvu.mail.authpolicy`), which calls
:func:`congvu.mail.actions.do_record_auth_success`; that action calls
:func:`record_check` in its own transaction. SMTP submission and the SSO sign-in page
are not checks: they do not open the mailbox.

Reading: a mail client signs in for every connection it opens, and webmail for nearly
every page, so sign-ins of one account less than ``[checks] same_check_minutes``
(default 30) after the last counted one are the same check; a new day always starts a
new check. Counts are kept per account and local day (:class:`MailboxCheck`, one row
with a counter), so the hot path is one ``UPDATE`` (or one ``INSERT`` on the day's
first check) on top of the sign-in's own write, and only when a new check begins.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from zoneinfo import ZoneInfo

from django.db.models import F

from congvu.accounts.models import Account, MailboxCheck
from congvu.profiles import Profile

#: Dovecot's ``%s`` (the service) for the sign-ins that open a mailbox.
MAILBOX_PROTOCOLS = frozenset({"imap", "pop3"})
#: Reading (module docstring): sign-ins closer than this are one check.
DEFAULT_SAME_CHECK_MINUTES = 30

AGENCY = "agency"
PERSONAL = "personal"
_KEYS = {AGENCY: "agency_per_working_day", PERSONAL: "personal_per_working_day"}


@dataclass(frozen=True)
class CheckRule:
    """The minimum number of checks per working day for one kind of mailbox, and the
    rule that sets it; ``minimum == 0``: the profile sets none."""

    minimum: int
    rule: str

    @property
    def regulated(self) -> bool:
        return self.minimum > 0


def check_rules(profile: Profile) -> dict[str, CheckRule]:
    """The profile's minimums for agency and personal mailboxes (NB-9.2, KH-10.1,
    KH-10.2), each with its rule (``[check_rules]``; a deployment's own minimum without
    one is cited as ``<prefix>:checks.<key>``)."""
    rules: dict[str, CheckRule] = {}
    for kind, key in _KEYS.items():
        minimum = max(0, int(profile.checks.get(key, 0) or 0))
        rule = profile.check_rules.get(key, "") or (
            f"{profile.rule_prefix}:checks.{key}" if minimum else "")
        rules[kind] = CheckRule(minimum, rule)
    return rules


def same_check_within(profile: Profile) -> dt.timedelta:
    return dt.timedelta(minutes=int(profile.checks.get("same_check_minutes",
                                                       DEFAULT_SAME_CHECK_MINUTES)))


def is_mailbox_protocol(protocol: str) -> bool:
    return protocol.strip().lower() in MAILBOX_PROTOCOLS


def local_day(moment: dt.datetime, tz: str) -> dt.date:
    return moment.astimezone(ZoneInfo(tz)).date()


def is_new_check(profile: Profile, last: dt.datetime | None, now: dt.datetime) -> bool:
    """Whether a mailbox sign-in at ``now`` starts a new check after the one counted at
    ``last`` (the Reading in the module docstring)."""
    if last is None or local_day(last, profile.timezone) != local_day(now, profile.timezone):
        return True
    return not dt.timedelta(0) <= now - last < same_check_within(profile)


def record_check(*, profile: Profile, account: Account, now: dt.datetime) -> bool:
    """Count a check of ``account``'s mailbox at ``now`` unless it continues the last
    one. Runs inside the caller's transaction with the account row locked (so two
    sign-ins of one account never both insert the day's row). True when counted."""
    if not is_new_check(profile, account.last_mailbox_check, now):
        return False
    day = local_day(now, profile.timezone)
    Account.objects.filter(pk=account.pk).update(last_mailbox_check=now)
    account.last_mailbox_check = now
    if not MailboxCheck.objects.filter(account_id=account.pk, day=day).update(
            count=F("count") + 1, last_at=now):
        MailboxCheck.objects.create(account_id=account.pk, day=day, count=1, first_at=now,
                                    last_at=now)
    return True
