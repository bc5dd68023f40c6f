"""Reading the mailbox checks (NB-9.2, KH-10) with the requests' authorisation: per
active account of the actor's agencies (an operator: every agency, or one), the checks
of each working day of a period, and the days below the profile's minimum.

A day counts towards the minimum once it is over (today is shown "so far") and only if
the account was active that day (activated, or restored, before it ended): a new
mailbox is not flagged for the days before it existed. Suspended, locked and deleted
accounts cannot sign in and are not listed.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from typing import Any

from django.db.models import (
    Case,
    Count,
    IntegerField,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils.translation import gettext as _

from congvu.accounts.models import Account, AccountKind, AccountState, MailboxCheck
from congvu.accounts.selectors import visible_agency_ids
from congvu.actors import Actor
from congvu.clock import start_of_day
from congvu.directory.models import Person
from congvu.errors import CongvuError, Forbidden
from congvu.mail.checks import AGENCY, PERSONAL, CheckRule, check_rules
from congvu.profiles import Profile
from congvu.workdays import WorkCalendar

#: The longest period one page or file covers (calendar days): about a month of columns.
MAX_PERIOD_DAYS = 31
#: The default period: this many working days, ending today.
DEFAULT_WORKING_DAYS = 5
_ONE_DAY = dt.timedelta(days=1)


@dataclass(frozen=True)
class Period:
    """The working days from ``start`` to ``end`` (both included); ``today`` is still
    going on, the days before it are over."""

    start: dt.date
    end: dt.date
    days: tuple[dt.date, ...]
    today: dt.date

    @property
    def finished(self) -> tuple[dt.date, ...]:
        return tuple(d for d in self.days if d < self.today)


def default_period(calendar: WorkCalendar, today: dt.date,
                   working_days: int = DEFAULT_WORKING_DAYS) -> Period:
    """The last ``working_days`` working days up to today (today included when it is
    one)."""
    days: list[dt.date] = []
    day = today
    while len(days) < working_days:
        if calendar.is_working_day(day):
            days.append(day)
        day -= _ONE_DAY
    return Period(days[-1], today, tuple(reversed(days)), today)


def period(calendar: WorkCalendar, start: dt.date, end: dt.date, today: dt.date) -> Period:
    """The working days of ``start``–``end``; a clear error for a period that is
    reversed, in the future or longer than :data:`MAX_PERIOD_DAYS`."""
    if end < start:
        raise CongvuError(_("The last day (%(end)s) is before the first day (%(start)s).") % {
            "start": start.strftime("%d/%m/%Y"), "end": end.strftime("%d/%m/%Y")})
    if end > today:
        raise CongvuError(_("The period must end today at the latest (%(today)s).") % {
            "today": today.strftime("%d/%m/%Y")})
    if (end - start).days + 1 > MAX_PERIOD_DAYS:
        raise CongvuError(_("The period is longer than %(n)d days; choose a shorter one.") % {
            "n": MAX_PERIOD_DAYS})
    days = []
    day = start
    while day <= end:
        if calendar.is_working_day(day):
            days.append(day)
        day += _ONE_DAY
    return Period(start, end, tuple(days), today)


@dataclass(frozen=True)
class Cell:
    """One account's checks on one working day."""

    day: dt.date
    count: int
    #: The day is over and the account was active on it: the minimum applies.
    expected: bool
    below: bool
    today: bool


@dataclass(frozen=True)
class CheckRow:
    account: Account
    cells: tuple[Cell, ...]
    below_days: int


@dataclass
class CheckTable:
    """The agency or personal mailboxes the actor may see, in display order, annotated
    with ``below_days`` (0 where the profile sets no minimum)."""

    kind: str
    rule: CheckRule
    accounts: QuerySet[Account]

    def totals(self) -> tuple[int, int]:
        """(mailboxes, mailboxes below the minimum on at least one day), in one query."""
        if not self.rule.regulated:
            return self.accounts.count(), 0
        found = self.accounts.order_by().aggregate(
            total=Count("pk"), below=Count("pk", filter=Q(below_days__gt=0)))
        return int(found["total"]), int(found["below"])


#: What the page and the file show of an account (a province has 50,000: no more).
_SHOWN = ("address", "kind", "state", "activated_at", "created_at", "agency__name",
          "agency__account_name", "person__full_name", "person__position",
          "person__department__name", "person__department__account_name")


def _scope(actor: Actor, agency_ref: str | None) -> set[int] | None:
    if actor.kind not in ("operator", "agency-it", "clerk"):
        raise Forbidden(_("%(actor)s may not see the mailbox checks: they are shown to "
                          "operators and to the IT contacts and clerks of each agency.") % {
            "actor": actor.label})
    return visible_agency_ids(actor, agency_ref or None)


def _below_days(rule: CheckRule, per: Period, tz: str) -> Any:
    """SQL: the finished days the account was active on, minus those with at least the
    minimum of checks (a check needs an active account, so those are a subset)."""
    finished = per.finished
    if not rule.regulated or not finished:
        return Value(0, output_field=IntegerField())
    expected: Any = Value(0, output_field=IntegerField())
    for day in finished:
        expected = expected + Case(
            When(Q(activated_at__lt=start_of_day(day + _ONE_DAY, tz))
                 | Q(activated_at__isnull=True,
                     created_at__lt=start_of_day(day + _ONE_DAY, tz)), then=Value(1)),
            default=Value(0), output_field=IntegerField())
    met = (MailboxCheck.objects.filter(account=OuterRef("pk"), day__in=finished,
                                       count__gte=rule.minimum)
           .order_by().values("account").annotate(n=Count("pk")).values("n")[:1])
    return expected - Coalesce(Subquery(met, output_field=IntegerField()), Value(0))


def check_tables(actor: Actor, profile: Profile, per: Period, *,
                 agency_ref: str | None = None, below_only: bool = False,
                 ) -> dict[str, CheckTable]:
    """The agency and the personal mailboxes ``actor`` may see (an agency's IT contact
    or clerk: their own agencies' subtrees; naming another agency is Forbidden), each
    with the profile's minimum (NB-9.2, KH-10.1, KH-10.2); ``below_only``: only those
    below it on at least one finished day, most days first."""
    ids = _scope(actor, agency_ref)
    rules = check_rules(profile)
    base = (Account.objects.filter(state=AccountState.ACTIVE)
            .select_related("agency", "person", "person__department").only(*_SHOWN))
    scoped = {
        AGENCY: base.filter(kind=AccountKind.AGENCY),
        PERSONAL: base.filter(kind=AccountKind.PERSON),
    }
    if ids is not None:
        scoped[AGENCY] = scoped[AGENCY].filter(agency_id__in=ids)
        # A department's staff belong to their agency; two indexed lookups, not a join.
        in_department = Person.objects.filter(department_id__in=ids).values("pk")
        scoped[PERSONAL] = scoped[PERSONAL].filter(
            Q(agency_id__in=ids) | Q(person_id__in=in_department))
    tables: dict[str, CheckTable] = {}
    for kind, qs in scoped.items():
        rule = rules[kind]
        qs = qs.annotate(below_days=_below_days(rule, per, profile.timezone))
        order = ["address"] if kind == AGENCY else ["agency__account_name", "address"]
        if below_only and rule.regulated:
            qs = qs.filter(below_days__gt=0).order_by("-below_days", *order)
        else:
            qs = qs.order_by(*order)
        tables[kind] = CheckTable(kind, rule, qs)
    return tables


def check_rows(table: CheckTable, per: Period, accounts: Sequence[Account],
               tz: str) -> list[CheckRow]:
    """The cells of ``accounts`` (a page of ``table.accounts``) for each working day."""
    counts: dict[tuple[int, dt.date], int] = {
        (a, d): n for a, d, n in MailboxCheck.objects.filter(
            account_id__in=[a.pk for a in accounts], day__in=per.days)
        .values_list("account_id", "day", "count")}
    rule = table.rule
    ends = [(day, start_of_day(day + _ONE_DAY, tz), day < per.today) for day in per.days]
    rows = []
    for account in accounts:
        since = account.activated_at or account.created_at
        cells = []
        below = 0
        for day, end, over in ends:
            count = counts.get((account.pk, day), 0)
            expected = over and since < end
            short = rule.regulated and expected and count < rule.minimum
            below += short
            cells.append(Cell(day, count, expected, short, day == per.today))
        rows.append(CheckRow(account, tuple(cells), below))
    return rows


def all_check_rows(table: CheckTable, per: Period, tz: str,
                   chunk: int = 500) -> Iterator[CheckRow]:
    """Every row of ``table`` (for the CSV file), read ``chunk`` accounts at a time."""
    batch: list[Account] = []
    for account in table.accounts.iterator(chunk_size=chunk):
        batch.append(account)
        if len(batch) == chunk:
            yield from check_rows(table, per, batch, tz)
            batch = []
    if batch:
        yield from check_rows(table, per, batch, tz)


def checks_csv(tables: dict[str, CheckTable], per: Period, tz: str,
               progress: Callable[[int], None] | None = None) -> bytes:
    """Every row of the tables as CSV (UTF-8 with a BOM, so spreadsheet programs read the
    Vietnamese text): one line per mailbox, one column per working day, the days below
    the minimum, the minimum and its rule. ``progress(n)``: n rows written so far."""
    out = io.StringIO()
    writer = csv.writer(out)
    writer.writerow([_("Kind of mailbox"), _("Address"), _("Holder or agency"), _("Agency"),
                     *(d.strftime("%d/%m/%Y") for d in per.days),
                     _("Days below the minimum"), _("Minimum per working day"), _("Rule")])
    labels = {AGENCY: _("agency"), PERSONAL: _("personal")}
    done = 0
    for kind in (AGENCY, PERSONAL):
        table = tables[kind]
        for row in all_check_rows(table, per, tz):
            account = row.account
            holder = (account.person.full_name if account.person
                      else account.agency.name if account.agency else "")
            agency = account.agency.account_name if account.agency else ""
            if account.person and account.person.department:
                agency = f"{agency} / {account.person.department.account_name}"
            writer.writerow([
                labels[kind], account.address, holder, agency,
                *(c.count for c in row.cells),
                row.below_days if table.rule.regulated else "",
                table.rule.minimum or "", table.rule.rule])
            done += 1
            if progress is not None and done % 500 == 0:
                progress(done)
    return ("\ufeff" + out.getvalue()).encode("utf-8")


def checks_file_name(per: Period) -> str:
    return f"kiem-tra-hop-thu_{per.start.isoformat()}_{per.end.isoformat()}.csv"
