"""Assemble a report from the figures: which tables each kind of report has, their
columns, totals and charts, in the active language. Authorisation is the selectors'
(:func:`congvu.reports.selectors.report_scope`)."""

from __future__ import annotations

import datetime as dt
from collections import Counter
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from django.utils import numberformat
from django.utils.formats import get_format
from django.utils.functional import Promise
from django.utils.translation import gettext as _
from django.utils.translation import gettext_lazy

from congvu.accounts.models import AccountKind, AccountState
from congvu.actors import Actor
from congvu.clock import start_of_day
from congvu.errors import CongvuError
from congvu.jobs.registry import Progress
from congvu.profiles import Profile
from congvu.reports import selectors as sel
from congvu.reports.cadence import Cadence, cadence_of, next_due, period_ending_before
from congvu.reports.model import Cell, Chart, Column, ColumnKind, Report, Section, Table
from congvu.reports.storage import mailbox_usage, usage_source
from congvu.requests.models import RequestKind, RequestStatus
from congvu.requests.sla import SLA_KEYS, sla_rule

#: The reports one can choose, in the order offered.
REPORT_KINDS: dict[str, Promise] = {
    "usage": gettext_lazy("Periodic usage report"),
    "accounts": gettext_lazy("Accounts by state and agency"),
    "requests": gettext_lazy("Requests and SLA compliance"),
}

STATE_LABELS: dict[str, Promise] = {
    AccountState.REQUESTED: gettext_lazy("Requested, not yet active"),
    AccountState.ACTIVE: gettext_lazy("Active"),
    AccountState.SUSPENDED: gettext_lazy("Suspended (still receives mail)"),
    AccountState.LOCKED: gettext_lazy("Locked (leaving)"),
    AccountState.DELETED: gettext_lazy("Deleted"),
}

MOVEMENT_LABELS: dict[str, Promise] = {
    "created": gettext_lazy("New accounts"),
    "suspended": gettext_lazy("Suspensions"),
    "restored": gettext_lazy("Restorations"),
    "locked": gettext_lazy("Locked"),
    "deleted": gettext_lazy("Deleted"),
}

SLA_LABELS: dict[str, Promise] = {
    "on_time": gettext_lazy("Answered on time"),
    "late": gettext_lazy("Answered late"),
    "overdue": gettext_lazy("Open, past the deadline"),
    "pending": gettext_lazy("Open, not yet due"),
}

#: Longest period one report covers.
MAX_DAYS = 5 * 366
#: Last sign-in buckets of the activity table (days).
ACTIVITY_CUTOFFS = (30, 90, 180, 365)
#: A mailbox this full is flagged.
NEARLY_FULL = 0.9
_MB = 1024 * 1024


@dataclass(frozen=True)
class ReportAsk:
    """What the reader asked for: a kind, a period (local days, both included), an
    optional agency (its account name), the inactivity threshold in days."""

    kind: str
    start: dt.date
    end: dt.date
    agency: str = ""
    days: int = 90

    def check(self) -> None:
        if self.kind not in REPORT_KINDS:
            raise CongvuError(_("Unknown report %(kind)r. Reports: %(valid)s.") % {
                "kind": self.kind, "valid": ", ".join(REPORT_KINDS)})
        if self.end < self.start:
            raise CongvuError(_("The period ends (%(end)s) before it starts (%(start)s).") % {
                "end": self.end.strftime("%d/%m/%Y"), "start": self.start.strftime("%d/%m/%Y")})
        if (self.end - self.start).days >= MAX_DAYS:
            raise CongvuError(_("A report covers at most five years; choose a shorter "
                                "period."))
        if not 1 <= self.days <= 3650:
            raise CongvuError(_("The inactivity threshold must be between 1 and 3650 days."))


def default_inactive_days(profile: Profile) -> int:
    """The profile's inactivity rule in days (QN-7.2: 3 months ≈ 90; NT-6.2a: 6 months),
    else 90."""
    span = profile.lifecycle.inactivity_login_after or profile.lifecycle.inactivity_activity_after
    if span is None:
        return 90
    return {"minutes": max(1, span.amount // 1440), "days": span.amount,
            "months": span.amount * 30}[span.unit]


def default_period(profile: Profile, today: dt.date) -> tuple[dt.date, dt.date]:
    """The report due next under the profile's cadence, else the calendar year so far."""
    cadence = _cadence(profile)
    if cadence is None:
        return dt.date(today.year, 1, 1), today
    period = next_due(cadence, today)
    return period.start, period.end


def _cadence(profile: Profile) -> Cadence | None:
    """The cadence, or None when there is none or it cannot be read (the reports page
    says why; a report is still made, under its generic name)."""
    try:
        return cadence_of(profile)
    except CongvuError:
        return None


def build_report(actor: Actor, profile: Profile, ask: ReportAsk, *, now: dt.datetime,
                 home: Path, progress: Progress | None = None,
                 extra_steps: int = 0) -> Report:
    """The report ``ask`` describes, with ``actor``'s rights (Forbidden otherwise);
    ``progress`` counts one step per section and the caller's ``extra_steps``."""
    ask.check()
    scope = sel.report_scope(actor, profile, ask.agency or None)
    figures = _Figures(profile, scope, ask, now, home)
    steps = SECTIONS[ask.kind]
    if progress is not None:
        progress.start(len(steps) + extra_steps, _("Reading the figures"))
    committee = _("%(province)s Provincial People's Committee") % {
        "province": profile.province}
    if actor.is_operator:
        issuer, parent = profile.operator.get("agency") or committee, committee
    else:
        root = scope.roots[0] if scope.roots else None
        issuer = scope.label
        parent = root.parent.name if root is not None and root.parent else committee
    report = Report(
        kind=ask.kind, title=_title(profile, ask), subject=_subject(ask.kind),
        province=profile.province, scope=scope.label, issuer=issuer, issuer_parent=parent,
        start=ask.start, end=ask.end, generated_at=now, timezone=profile.timezone,
        rule=_cadence_rule(profile) if ask.kind == "usage" else "")
    for n, step in enumerate(steps, 1):
        step(figures, report)
        if progress is not None:
            progress.advance(n, _("Reading the figures"))
    return report


def _subject(kind: str) -> str:
    return {"usage": _("Management and use of the official e-mail system"),
            "accounts": _("Accounts of the official e-mail system by state and agency"),
            "requests": _("Agencies' requests and compliance with the deadlines")}[kind]


def _cadence_rule(profile: Profile) -> str:
    cadence = _cadence(profile)
    return cadence.rule if cadence else ""


def _title(profile: Profile, ask: ReportAsk) -> str:
    """A periodic report's own name when the period is one of the cadence's."""
    cadence = _cadence(profile) if ask.kind == "usage" else None
    if cadence is not None:
        period = period_ending_before(cadence, ask.end + dt.timedelta(days=1))
        if (period.start, period.end) == (ask.start, ask.end):
            return period.title()
    return str(REPORT_KINDS[ask.kind])


def fmt_date(day: dt.date) -> str:
    return day.strftime("%d/%m/%Y")


def format_cell(value: Cell, kind: ColumnKind) -> str:
    """A cell as text in the active language (1.234 / 95,3 % in Vietnamese)."""
    if value is None or value == "":
        return "—"
    if isinstance(value, str):
        return value
    if kind == "percent":
        return f"{number(value * 100, 1)} %"
    return number(value, 1 if kind == "mb" else None)


def number(value: float, decimals: int | None = None) -> str:
    """Grouped by thousands with the language's separators (Vietnamese: 12.345,6)."""
    if decimals is None and isinstance(value, float) and value.is_integer():
        value = int(value)
    return numberformat.format(value, get_format("DECIMAL_SEPARATOR"), decimals, 3,
                               get_format("THOUSAND_SEPARATOR"), force_grouping=True)


# ------------------------------------------------------------------ figures → tables


class _Figures:
    """The selectors' answers for one report, read once, plus the agency tree."""

    def __init__(self, profile: Profile, scope: sel.Scope, ask: ReportAsk, now: dt.datetime,
                 home: Path) -> None:
        self.profile, self.scope, self.ask, self.now, self.home = profile, scope, ask, now, home
        tz = profile.timezone
        self.start = start_of_day(ask.start, tz)
        self.end = start_of_day(ask.end + dt.timedelta(days=1), tz)
        self.tree = sel.agency_tree(scope)
        self._roll: dict[int, dict[int, Counter[str]]] = {}

    def rollup(self, direct: Mapping[int | None, Counter[str]]) -> dict[int, Counter[str]]:
        """agency → its own and its units' counts."""
        totals = {row.id: Counter(direct.get(row.id, Counter())) for row in self.tree}
        for row in reversed(self.tree):  # units before their parents
            if row.parent_id in totals and row.depth > 0:
                totals[row.parent_id] += totals[row.id]
        return totals

    def summary_rows(self) -> list[sel.AgencyRow]:
        """The agencies a 'by agency' summary lists: the province's top-level agencies, or
        every agency and unit of an agency's subtree."""
        return [r for r in self.tree if r.depth == 0] if self.scope.province else self.tree


def _agency_columns() -> list[Column]:
    return [Column(_("Agency"), "text"), Column(_("Code"), "text")]


def _no_agency(direct: Mapping[int | None, Counter[str]]) -> Counter[str] | None:
    """Accounts with no agency (the operators' own) or events no longer matched."""
    counts = direct.get(None)
    return counts if counts and sum(counts.values()) else None


def _share(part: int, whole: int) -> float | None:
    return part / whole if whole else None


def accounts_by_state(f: _Figures, report: Report) -> Table:
    counts = sel.state_counts(f.scope)
    kinds = [(AccountKind.PERSON, _("Personal accounts")),
             (AccountKind.AGENCY, _("Agency mailboxes"))]
    if f.scope.province:
        kinds.append((AccountKind.OPERATOR, _("Operators")))
    rows: list[list[Cell]] = []
    for state, label in STATE_LABELS.items():
        values = [counts[(kind, state)] for kind, _label in kinds]
        rows.append([str(label), *values, sum(values)])
    alive_states = [s for s in STATE_LABELS if s != AccountState.DELETED]
    live: list[Cell] = [sum(counts[(k, s)] for s in alive_states) for k, _label in kinds]
    live.append(sum(v for v in live if isinstance(v, int)))
    alive = counts.total() - sum(v for (k, s), v in counts.items() if s == AccountState.DELETED)
    report.facts += [(_("Accounts (not counting deleted ones)"), alive, "int"),
                     (_("Active accounts"), sum(v for (k, s), v in counts.items()
                                                if s == AccountState.ACTIVE), "int"),
                     (_("Suspended accounts"), sum(v for (k, s), v in counts.items()
                                                   if s == AccountState.SUSPENDED), "int")]
    return Table(
        key="accounts-by-state", name=_("Accounts by state"),
        caption=_("Accounts by state, on the day of the report"),
        columns=[Column(_("State"), "text"), *[Column(label) for _k, label in kinds],
                 Column(_("Total"))],
        rows=rows, total=[_("Total, not counting deleted accounts"), *live],
        chart=Chart(_("Accounts by state"), series=tuple(range(1, len(kinds) + 1)),
                    stacked=True),
        note=_("Deleted accounts keep their address reserved and are never reused."))


def accounts_by_agency(f: _Figures, report: Report) -> Table:
    direct = sel.unit_state_counts(f.scope)
    totals = f.rollup(direct)
    states = list(STATE_LABELS)
    rows: list[list[Cell]] = []
    depths: list[int] = []

    def line(name: str, code: str, c: Counter[str]) -> list[Cell]:
        alive = sum(c[s] for s in states if s != AccountState.DELETED)
        return [name, code, *[c[s] for s in states], alive]

    for row in f.tree:
        rows.append(line(row.name, row.account_name, totals[row.id]))
        depths.append(row.depth)
    extra = _no_agency(direct)
    if extra is not None:
        rows.append(line(_("No agency (operators' accounts)"), "", extra))
        depths.append(0)
    grand: Counter[str] = Counter()
    for c in direct.values():
        grand += c
    return Table(
        key="accounts-by-agency", name=_("Accounts by agency"),
        caption=_("Accounts by agency and unit (each agency counts its units' accounts too)"),
        columns=[*_agency_columns(), *[Column(str(STATE_LABELS[s])) for s in states],
                 Column(_("Total, not deleted"))],
        rows=rows, depths=depths, total=line(_("Grand total"), "", grand),
        chart=Chart(_("Largest agencies by accounts"), series=(3, 4, 5), stacked=True,
                    limit=15, largest=True, top_only=f.scope.province))


def movements_by_agency(f: _Figures, report: Report) -> Table:
    direct = sel.unit_movements(f.scope, f.start, f.end, by_unit=not f.scope.province)
    totals = f.rollup(direct)
    rows: list[list[Cell]] = []
    depths: list[int] = []
    for row in f.summary_rows():
        c = totals[row.id]
        rows.append([row.name, row.account_name, *[c[m] for m in sel.MOVEMENTS]])
        depths.append(row.depth if not f.scope.province else 0)
    extra = _no_agency(direct)
    if extra is not None:
        rows.append([_("No agency, or an address changed since"), "",
                     *[extra[m] for m in sel.MOVEMENTS]])
        depths.append(0)
    grand: Counter[str] = Counter()
    for c in direct.values():
        grand += c
    report.facts += [(_("Accounts created in the period"), grand["created"], "int"),
                     (_("Accounts deleted in the period"), grand["deleted"], "int")]
    return Table(
        key="account-changes", name=_("Changes by agency"),
        caption=_("Accounts created, suspended, restored, locked and "
                                         "deleted in the period, by agency"),
        columns=[*_agency_columns(), *[Column(str(MOVEMENT_LABELS[m])) for m in sel.MOVEMENTS]],
        rows=rows, depths=depths,
        total=[_("Grand total"), "", *[grand[m] for m in sel.MOVEMENTS]],
        chart=Chart(_("Accounts created and deleted"), series=(2, 6), limit=15))


def suspensions_by_rule(f: _Figures, report: Report) -> Table:
    counts = sel.suspensions_by_rule(f.scope, f.start, f.end)
    rows: list[list[Cell]] = [[rule or _("(no rule given)"), n]
                              for rule, n in sorted(counts.items(), key=lambda x: (-x[1], x[0]))]
    return Table(
        key="suspensions-by-rule", name=_("Suspensions by rule"),
        caption=_("Suspensions in the period, by the rule applied"),
        columns=[Column(_("Rule"), "text"), Column(_("Suspensions"))], rows=rows,
        total=[_("Grand total"), counts.total()],
        chart=Chart(_("Suspensions by rule"), series=(1,)),
        note=_("NB-7.2a: failed sign-ins; NB-7.2b: mail sent outside the domain; NB-7.2đ: "
               "one-time password not changed; QN-7.2, NT-6.2a: not used for too long."))


def requests_by_kind(f: _Figures, report: Report) -> Table:
    counts = sel.request_counts(f.scope, f.start, f.end)
    statuses = list(RequestStatus)
    rows: list[list[Cell]] = []
    for kind in RequestKind:
        values = [counts[(kind.value, s.value)] for s in statuses]
        rows.append([str(kind.label), *values, sum(values)])
    report.facts.append((_("Requests filed in the period"), counts.total(), "int"))
    return Table(
        key="requests-by-kind", name=_("Requests by kind"),
        caption=_("Requests filed in the period, by kind and status"),
        columns=[Column(_("Kind of request"), "text"),
                 *[Column(str(s.label)) for s in statuses], Column(_("Total"))],
        rows=rows,
        total=[_("Grand total"), *[sum(counts[(k.value, s.value)] for k in RequestKind)
                             for s in statuses], counts.total()],
        chart=Chart(_("Requests by kind and status"),
                    series=tuple(range(1, len(statuses) + 1)), stacked=True))


def _sla_line(c: Counter[str]) -> list[Cell]:
    due = sum(c[o] for o in sel.SLA_OUTCOMES)
    known = c["on_time"] + c["late"] + c["overdue"]
    return [due, *[c[o] for o in sel.SLA_OUTCOMES], _share(c["on_time"], known)]


def _sla_columns() -> list[Column]:
    return [Column(_("Due in the period")), *[Column(str(SLA_LABELS[o]))
                                               for o in sel.SLA_OUTCOMES],
            Column(_("On time"), "percent")]


def sla_by_kind(f: _Figures, report: Report) -> Table:
    counts = sel.sla_counts(f.scope, f.start, f.end, f.now)
    by_kind: dict[str, Counter[str]] = {}
    for (kind, _agency), c in counts.items():
        by_kind.setdefault(kind, Counter()).update(c)
    rows: list[list[Cell]] = []
    grand: Counter[str] = Counter()
    for kind in RequestKind:
        key = SLA_KEYS.get(kind)
        span = f.profile.sla.get(key) if key else None
        if span is None:
            continue
        c = by_kind.get(kind.value, Counter())
        grand += c
        rows.append([str(kind.label), sla_rule(f.profile, key or ""), _span(span), *_sla_line(c)])
    line = _sla_line(grand)
    report.facts.append((_("Requests answered on time"), line[-1], "percent"))
    none = [str(k.label) for k in RequestKind if SLA_KEYS.get(k) not in f.profile.sla]
    return Table(
        key="sla-by-kind", name=_("SLA by kind"),
        caption=_("Deadlines (SLA) of the requests due in the period, by kind"),
        columns=[Column(_("Kind of request"), "text"), Column(_("Rule"), "text"),
                 Column(_("Deadline"), "text"), *_sla_columns()],
        rows=rows, total=[_("Grand total"), "", "", *line],
        chart=Chart(_("Requests answered on time and late"), series=(4, 5, 6), stacked=True),
        note=_("On time = answered within the deadline, out of the requests answered or "
               "already past their deadline. Without a deadline in the profile: "
               "%(kinds)s.") % {"kinds": ", ".join(none) or "—"})


def _span(span: object) -> str:
    from congvu.profiles import Duration

    assert isinstance(span, Duration)
    unit = {("days", True): _("%(n)d working days"), ("days", False): _("%(n)d days"),
            ("minutes", True): _("%(n)d working minutes"), ("minutes", False): _("%(n)d minutes"),
            ("months", False): _("%(n)d months"), ("months", True): _("%(n)d months")}
    return unit[(span.unit, span.working)] % {"n": span.amount}


def sla_by_agency(f: _Figures, report: Report) -> Table:
    counts = sel.sla_counts(f.scope, f.start, f.end, f.now)
    direct: dict[int | None, Counter[str]] = {}
    for (_kind, agency), c in counts.items():
        direct.setdefault(agency, Counter()).update(c)
    totals = f.rollup(direct)
    rows: list[list[Cell]] = []
    depths: list[int] = []
    grand: Counter[str] = Counter()
    for c in direct.values():
        grand += c
    for row in f.summary_rows():
        c = totals[row.id]
        if c.total():
            rows.append([row.name, row.account_name, *_sla_line(c)])
            depths.append(row.depth if not f.scope.province else 0)
    return Table(
        key="sla-by-agency", name=_("SLA by agency"),
        caption=_("Deadlines (SLA) of the requests due in the period, by "
                                       "agency"),
        columns=[*_agency_columns(), *_sla_columns()], rows=rows, depths=depths,
        total=[_("Grand total"), "", *_sla_line(grand)],
        chart=Chart(_("Requests answered on time and late, by agency"), series=(3, 4, 5),
                    stacked=True))


def sign_in_activity(f: _Figures, report: Report) -> Table:
    grand = sel.activity(f.scope, f.now, ACTIVITY_CUTOFFS)
    active = grand.total()
    labels: list[tuple[str, str]] = []
    lower = 0
    for days in ACTIVITY_CUTOFFS:
        labels.append((f"within_{days}", _("%(a)d to %(b)d days ago") % {"a": lower, "b": days}
                       if lower else _("In the last %(n)d days") % {"n": days}))
        lower = days + 1
    labels += [("older", _("More than %(n)d days ago") % {"n": ACTIVITY_CUTOFFS[-1]}),
               ("never", _("Never signed in"))]
    rows: list[list[Cell]] = [[label, grand[key], _share(grand[key], active)]
                              for key, label in labels]
    return Table(
        key="sign-in-activity", name=_("Last sign-in"),
        caption=_("Active accounts by their last sign-in (webmail, "
                                          "mail clients, single sign-on)"),
        columns=[Column(_("Last sign-in"), "text"), Column(_("Active accounts")),
                 Column(_("Share"), "percent")],
        rows=rows, total=[_("Grand total"), active, 1.0 if active else None],
        chart=Chart(_("Active accounts by last sign-in"), series=(1,)))


def inactive_by_agency(f: _Figures, report: Report) -> Table:
    days = f.ask.days
    direct = sel.unit_activity(f.scope, f.now, (days,), by_unit=not f.scope.province)
    totals = f.rollup(direct)
    grand: Counter[str] = Counter()
    for c in direct.values():
        grand += c

    def line(c: Counter[str]) -> list[Cell]:
        unused = c["older"] + c["never"]
        return [c.total(), c[f"within_{days}"], unused, c["never"], _share(unused, c.total())]

    rows: list[list[Cell]] = []
    depths: list[int] = []
    for row in f.summary_rows():
        c = totals[row.id]
        if c.total():
            rows.append([row.name, row.account_name, *line(c)])
            depths.append(row.depth if not f.scope.province else 0)
    report.facts.append((_("Active accounts not used for %(n)d days") % {"n": days},
                         grand["older"] + grand["never"], "int"))
    return Table(
        key="inactive-accounts", name=_("Unused accounts"),
        caption=_("Active accounts not used for %(n)d days or more, by agency") % {"n": days},
        columns=[*_agency_columns(), Column(_("Active accounts")),
                 Column(_("Used in the last %(n)d days") % {"n": days}),
                 Column(_("Not used for %(n)d days") % {"n": days}),
                 Column(_("Never signed in")), Column(_("Not used"), "percent")],
        rows=rows, depths=depths, total=[_("Grand total"), "", *line(grand)],
        chart=Chart(_("Accounts used and not used, by agency"), series=(3, 4), stacked=True),
        note=_("An account is used when its holder signs in to webmail, a mail client or "
               "the single sign-on. Inactivity rule of the profile: %(rule)s.") % {
            "rule": f.profile.lifecycle.inactivity_login_rule
            or f.profile.lifecycle.inactivity_activity_rule or "—"})


def sign_ins_by_month(f: _Figures, report: Report) -> Table:
    months = sel.signins_by_month(f.scope, f.start, f.end, f.profile.timezone)
    rows: list[list[Cell]] = [[m.strftime("%m/%Y"), n, people] for m, n, people in months]
    return Table(
        key="sign-ins-by-month", name=_("Sign-ins by month"),
        caption=_("Sign-ins through the single sign-on, by month"),
        columns=[Column(_("Month"), "text"), Column(_("Sign-ins")),
                 Column(_("Accounts that signed in"))],
        rows=rows, total=[_("Grand total"), sum(r[1] for r in rows),  # type: ignore[misc]
                          None],
        chart=Chart(_("Sign-ins by month"), series=(1, 2), limit=60),
        note=_("Mail clients' sign-ins update each account's last sign-in but are not "
               "logged one by one."))


def storage_by_agency(f: _Figures, report: Report) -> Table:
    by_unit = not f.scope.province
    source = usage_source(f.home)
    if source:
        boxes = sel.unit_mailboxes(f.scope, by_unit=by_unit)
        usage = mailbox_usage(f.home, (a for rows in boxes.values() for a, _q in rows))

        def counts(rows: list[tuple[str, int]]) -> Counter[str]:
            c: Counter[str] = Counter(mailboxes=len(rows), quota=sum(q for _a, q in rows))
            for address, quota in rows:
                used = usage.used.get(address, 0)
                c["used"] += used
                c["full"] += int(bool(quota) and used >= NEARLY_FULL * quota)
            return c

        direct = {unit: counts(rows) for unit, rows in boxes.items()}
        source = usage.source
    else:  # nothing to measure: the quotas alone, counted by the database
        direct = sel.unit_quotas(f.scope, by_unit=by_unit)
    known = bool(source)
    totals = f.rollup(direct)
    grand: Counter[str] = Counter()
    for c in direct.values():
        grand += c

    def line(c: Counter[str]) -> list[Cell]:
        if not known:
            return [c["mailboxes"], c["quota"] / _MB, None, None, None]
        return [c["mailboxes"], c["quota"] / _MB, c["used"] / _MB,
                _share(c["used"], c["quota"]), c["full"]]

    rows: list[list[Cell]] = []
    depths: list[int] = []
    for row in f.summary_rows():
        c = totals[row.id]
        if c["mailboxes"]:
            rows.append([row.name, row.account_name, *line(c)])
            depths.append(row.depth if not f.scope.province else 0)
    if known:
        report.facts.append((_("Mailbox storage used (MB)"), grand["used"] / _MB, "mb"))
    notes = {"dovecot": _("Sizes as the mail server counts them (quota)."),
             "disk": _("Sizes of the messages on disk (the mail server is not running).")}
    return Table(
        key="mailbox-storage", name=_("Storage by agency"),
        caption=_("Mailboxes and storage, by agency"),
        columns=[*_agency_columns(), Column(_("Number of mailboxes")),
                 Column(_("Quota (MB)"), "mb"), Column(_("Used (MB)"), "mb"),
                 Column(_("Used"), "percent"),
                 Column(_("Mailboxes at least %(n)d%% full") % {"n": round(NEARLY_FULL * 100)})],
        rows=rows, depths=depths, total=[_("Grand total"), "", *line(grand)],
        chart=Chart(_("Storage used, by agency (MB)") if known
                    else _("Quota allocated, by agency (MB)"),
                    series=(4,) if known else (3,)),
        note=notes.get(source) or _("Mailbox sizes are not available: the mail server "
                                    "has not been started on this machine or its "
                                    "mailboxes cannot be read. Quotas are shown."))


Step = Callable[[_Figures, Report], None]


def _section(key: str, title: Promise, *tables: Callable[[_Figures, Report], Table]) -> Step:
    def step(f: _Figures, report: Report) -> None:
        report.sections.append(Section(key, str(title), [t(f, report) for t in tables]))
    return step


SECTIONS: dict[str, list[Step]] = {
    "usage": [
        _section("accounts", gettext_lazy("Accounts"), accounts_by_state, movements_by_agency,
                 suspensions_by_rule),
        _section("use", gettext_lazy("Use of the accounts"), sign_in_activity,
                 inactive_by_agency, sign_ins_by_month),
        _section("storage", gettext_lazy("Mailboxes and storage"), storage_by_agency),
        _section("requests", gettext_lazy("Agencies' requests"), requests_by_kind, sla_by_kind),
    ],
    "accounts": [
        _section("state", gettext_lazy("Accounts by state"), accounts_by_state),
        _section("agencies", gettext_lazy("Accounts by agency"), accounts_by_agency),
        _section("changes", gettext_lazy("Changes in the period"), movements_by_agency,
                 suspensions_by_rule),
    ],
    "requests": [
        _section("filed", gettext_lazy("Requests filed"), requests_by_kind),
        _section("sla", gettext_lazy("Deadlines (SLA)"), sla_by_kind, sla_by_agency),
    ],
}
