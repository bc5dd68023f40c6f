"""Province profiles: every number and format of the spec's profile table, as data.

Each ``<name>.toml`` beside this file is one province; a deployment picks one and may
override any value in its settings file (``[profile.<section>]`` tables). Code reads the
typed, frozen :class:`Profile`, never a literal.
"""

from __future__ import annotations

import copy
import datetime as dt
import re
import tomllib
from dataclasses import dataclass, field, fields
from functools import cache
from importlib import resources
from typing import Any, Literal

from django.utils.translation import gettext as _

from congvu.errors import CongvuError

_DURATION_RE = re.compile(
    r"^\s*(\d+)\s+(working\s+)?(minute|minutes|day|days|month|months|year|years)\s*$"
)


@dataclass(frozen=True)
class Duration:
    """A span such as ``3 months``, ``10 minutes`` or ``3 working days``.

    Months are calendar months (clamped to the month's last day); working spans are
    counted by :mod:`congvu.workdays`.
    """

    amount: int
    unit: Literal["minutes", "days", "months"]
    working: bool = False

    @classmethod
    def parse(cls, text: str) -> Duration | None:
        """Parse a profile value; an empty string means "not regulated" (None)."""
        if not text or not text.strip():
            return None
        m = _DURATION_RE.match(text)
        if not m:
            raise CongvuError(_("Invalid duration %(text)r (expected e.g. '3 months').") % {
                "text": text})
        amount, working, unit = int(m.group(1)), bool(m.group(2)), m.group(3)
        if unit.startswith("year"):
            amount, unit = amount * 12, "months"
        norm: Literal["minutes", "days", "months"] = (
            "minutes" if unit.startswith("minute") else "days" if unit.startswith("day")
            else "months")
        return cls(amount, norm, working)

    def after(self, moment: dt.datetime) -> dt.datetime:
        """Calendar arithmetic for non-working spans."""
        if self.working:
            raise ValueError("working spans are computed by congvu.workdays")
        if self.unit == "minutes":
            return moment + dt.timedelta(minutes=self.amount)
        if self.unit == "days":
            return moment + dt.timedelta(days=self.amount)
        return add_months(moment, self.amount)

    def before(self, moment: dt.datetime) -> dt.datetime:
        """The moment that is this span before ``moment`` (for "older than" filters)."""
        if self.unit == "minutes":
            return moment - dt.timedelta(minutes=self.amount)
        if self.unit == "days":
            return moment - dt.timedelta(days=self.amount)
        return add_months(moment, -self.amount)

    def __str__(self) -> str:
        return f"{self.amount} {'working ' if self.working else ''}{self.unit}"


def add_months(moment: dt.datetime, months: int) -> dt.datetime:
    """Add calendar months, clamping the day (31 January + 1 month = 28/29 February)."""
    index = moment.month - 1 + months
    year, month = moment.year + index // 12, index % 12 + 1
    next_first = dt.date(year + (month == 12), month % 12 + 1, 1)
    last_day = (next_first - dt.timedelta(days=1)).day
    return moment.replace(year=year, month=month, day=min(moment.day, last_day))


@dataclass(frozen=True)
class MailSettings:
    domain: str
    webmail_url: str
    quota_agency_mb: int
    quota_personal_mb: int
    max_message_mb: int
    external_limit: int
    external_window_minutes: int
    forward_allow: tuple[str, ...]


PersonFormat = Literal["given-initials-agency", "initials-given", "given-initials", "middle-given"]
CollisionPolicy = Literal["ranked", "numbered", "fallbacks"]
AgencyFormat = Literal["dotted", "underscored", "nt"]


@dataclass(frozen=True)
class NamingSettings:
    person: PersonFormat
    person_rule: str
    collision: CollisionPolicy
    collision_rule: str
    agency: AgencyFormat
    agency_rule: str
    unit_rule: str
    agency_separator: str
    number_start: int
    max_local_part: int = 64


@dataclass(frozen=True)
class PasswordPolicy:
    rule: str
    min_length: int
    require_upper: bool
    require_lower: bool
    require_digit: bool
    require_special: bool
    special_chars: str
    forbid_account_name: bool
    forbid_full_name: bool
    forbid_name_parts: bool
    forbid_birth_date: bool
    max_age: Duration | None
    max_age_rule: str
    history: int
    change_first_login_rule: str


@dataclass(frozen=True)
class LeavePolicy:
    rule: str
    lock_after: Duration | None
    delete_after: Duration | None
    senior_rule: str
    senior_lock_after: Duration | None
    senior_delete_after: Duration | None


@dataclass(frozen=True)
class LifecycleSettings:
    default_password_suspend_after: Duration | None
    default_password_rule: str
    failed_login_limit: int
    failed_login_rule: str
    inactivity_login_after: Duration | None
    inactivity_login_rule: str
    inactivity_activity_after: Duration | None
    inactivity_activity_rule: str
    restore_rule: str
    transfer_keeps_address: bool
    transfer_rule: str
    old_address_alias_for: Duration | None
    leave: LeavePolicy


@dataclass(frozen=True)
class WorkdaySettings:
    office_hours: tuple[tuple[dt.time, dt.time], ...]


@dataclass(frozen=True)
class Profile:
    name: str
    province: str
    rule_prefix: str
    regulation: str
    timezone: str
    mail: MailSettings
    naming: NamingSettings
    password: PasswordPolicy
    lifecycle: LifecycleSettings
    workdays: WorkdaySettings
    sla: dict[str, Duration] = field(default_factory=dict)
    #: The rule behind each SLA (``new_mailbox`` → ``NB-6.2b``), cited with its deadline.
    sla_rules: dict[str, str] = field(default_factory=dict)
    checks: dict[str, int] = field(default_factory=dict)
    #: The rule behind each minimum of ``checks`` (``agency_per_working_day`` → ``NB-9.2``).
    check_rules: dict[str, str] = field(default_factory=dict)
    report: dict[str, str] = field(default_factory=dict)
    operator: dict[str, str] = field(default_factory=dict)


def available_profiles() -> list[str]:
    """Names of the shipped profiles, sorted."""
    root = resources.files(__name__)
    return sorted(p.name[:-5] for p in root.iterdir() if p.name.endswith(".toml"))


def raw_profile(name: str) -> dict[str, Any]:
    """The shipped profile's TOML as a dict (for merging overrides)."""
    valid = available_profiles()
    if name not in valid:
        raise CongvuError(
            _("Unknown profile %(name)r. Valid profiles: %(valid)s.")
            % {"name": name, "valid": ", ".join(valid)}
        )
    text = resources.files(__name__).joinpath(f"{name}.toml").read_text(encoding="utf-8")
    return tomllib.loads(text)


def merge(base: dict[str, Any], override: dict[str, Any]) -> dict[str, Any]:
    """Deep-merge ``override`` into a copy of ``base`` (tables merge, values replace)."""
    out = copy.deepcopy(base)
    for key, value in override.items():
        if isinstance(value, dict) and isinstance(out.get(key), dict):
            out[key] = merge(out[key], value)
        else:
            out[key] = copy.deepcopy(value)
    return out


def _build(cls: type[Any], data: dict[str, Any], where: str) -> Any:
    names = {f.name: f for f in fields(cls)}
    unknown = set(data) - set(names)
    if unknown:
        raise CongvuError(_("Unknown profile setting(s) in [%(where)s]: %(keys)s.") % {
            "where": where, "keys": ", ".join(sorted(unknown))})
    values: dict[str, Any] = {}
    for key, value in data.items():
        ftype = str(names[key].type)
        if "Duration" in ftype:
            value = Duration.parse(value)
        elif ftype.startswith("tuple[str"):
            value = tuple(value)
        values[key] = value
    try:
        return cls(**values)
    except TypeError as exc:
        raise CongvuError(_("Incomplete profile section [%(where)s]: %(error)s") % {
            "where": where, "error": exc}) from exc


def _hours(pairs: list[list[str]]) -> tuple[tuple[dt.time, dt.time], ...]:
    out = []
    for start, end in pairs:
        a, b = dt.time.fromisoformat(start), dt.time.fromisoformat(end)
        if b <= a:
            raise CongvuError(_("Office hours %(a)s–%(b)s end before they start.") % {
                "a": start, "b": end})
        out.append((a, b))
    return tuple(sorted(out))


def build_profile(data: dict[str, Any]) -> Profile:
    """Turn a (possibly overridden) profile dict into a validated :class:`Profile`."""
    d = dict(data)
    lifecycle = dict(d.pop("lifecycle"))
    leave = _build(LeavePolicy, lifecycle.pop("leave"), "lifecycle.leave")
    sla = {k: v for k, v in ((k, Duration.parse(s)) for k, s in d.pop("sla", {}).items()) if v}
    return Profile(
        name=d.pop("name"),
        province=d.pop("province"),
        rule_prefix=d.pop("rule_prefix"),
        regulation=d.pop("regulation"),
        timezone=d.pop("timezone"),
        mail=_build(MailSettings, d.pop("mail"), "mail"),
        naming=_build(NamingSettings, d.pop("naming"), "naming"),
        password=_build(PasswordPolicy, d.pop("password"), "password"),
        lifecycle=_build(LifecycleSettings, {**lifecycle, "leave": leave}, "lifecycle"),
        workdays=WorkdaySettings(office_hours=_hours(d.pop("workdays")["office_hours"])),
        sla=sla,
        sla_rules={str(k): str(v) for k, v in d.pop("sla_rules", {}).items()},
        checks=dict(d.pop("checks", {})),
        check_rules={str(k): str(v) for k, v in d.pop("check_rules", {}).items()},
        report=dict(d.pop("report", {})),
        operator=dict(d.pop("operator", {})),
    )


@cache
def load_profile(name: str) -> Profile:
    """The shipped profile ``name`` without deployment overrides."""
    return build_profile(raw_profile(name))
