"""The import's rules, row by row and across the file, without writing anything.

For every row: each cell is checked (name, agency, department, birth date, leader, old
and wanted address), then the address the person would get is computed with the
profile's person rule (NB-5.3, KH-3.3a, QN-4.1, NT-4.2a) and, on a collision with the
addresses in use, the tombstones or another row of the same file, its collision rule
(NB-5.4, KH-3.3b, QN-4.2 leaders keep the base, NT-4.2b). A row with an error gets no
address and takes none from the others, so leaving the faulty rows out (import only the
valid ones) gives every other row the very address the preview showed.

Old address (NB-13 migration): in the province's domain and free, it is kept as an
alias of the new account (for the profile's ``old_address_alias_for``, as after a
transfer); when it is exactly the address the rule gives, the person simply keeps it. An
address of another domain (a former province's system) cannot be an alias here (this
system receives mail for its own domain only): it is recorded with the account's
creation in the audit log. A tombstone is never given to anyone (spec §2).
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Callable
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from congvu.accounts.actions import _validate_local_part
from congvu.accounts.naming import (
    BatchRow,
    NamingError,
    _run_batch,
    base_local_part,
    parse_person_name,
    person_agency_abbr,
)
from congvu.directory.models import AgencyKind
from congvu.errors import CongvuError
from congvu.imports.parsing import RawRow
from congvu.imports.snapshot import Snapshot, name_key
from congvu.profiles import Profile
from congvu.text import fold

#: The migration rule where the profile's regulation has one (NB-13).
MIGRATION_RULES = {"NB": "NB-13"}
#: One account per person (spec §2, NT-2.1), cited where the profile is Ninh Thuận's.
ONE_ACCOUNT_RULES = {"NT": "NT-2.1"}

_TRUE = {"1", "x", "co", "c", "yes", "y", "true", "lanh dao", "la lanh dao"}
_FALSE = {"", "0", "khong", "k", "no", "n", "false"}
_DATE_FORMATS = ("%d/%m/%Y", "%d-%m-%Y", "%d.%m.%Y", "%Y-%m-%d")
_EMAIL = re.compile(r"^[a-z0-9._+-]+@([a-z0-9-]+\.)+[a-z]{2,}$")
_MAX_TEXT = 255


@dataclass(frozen=True)
class Problem:
    """An error (the row cannot be imported) or a note (it can; read this first).
    ``field`` is a column key, or ``address`` for the address the rules give."""

    field: str
    message: str
    rule: str = ""

    def to_json(self) -> dict[str, str]:
        return {"field": self.field, "message": self.message, "rule": self.rule}


@dataclass
class RowPlan:
    line: int
    values: dict[str, str]
    errors: list[Problem] = field(default_factory=list)
    notes: list[Problem] = field(default_factory=list)
    full_name: str = ""
    position: str = ""
    birth_date: dt.date | None = None
    leader: bool = False
    #: The agency, unit or department the person joins (its id in the directory).
    unit_id: int | None = None
    agency_abbr: str = ""
    local_part: str = ""
    rule: str = ""
    candidates: tuple[str, ...] = ()
    #: The old address kept as an alias (local part in the province's domain).
    alias: str = ""
    wanted: str = ""

    @property
    def ok(self) -> bool:
        return not self.errors

    def error(self, column: str, message: str, rule: str = "") -> None:
        self.errors.append(Problem(column, message, rule))

    def note(self, column: str, message: str, rule: str = "") -> None:
        self.notes.append(Problem(column, message, rule))


#: Claims an address for a row, first come, first served (see ``_claim_addresses``).
Claim = Callable[[RowPlan, str, str], bool]


def plan_rows(profile: Profile, rows: list[RawRow], snap: Snapshot, today: dt.date,
              advance: Callable[[int], None] | None = None) -> list[RowPlan]:
    """The verdict on every row, in file order (see the module's docstring).
    ``advance(n)`` hears how many rows' cells are checked."""
    plans: list[RowPlan] = []
    for n, row in enumerate(rows, start=1):
        plans.append(_check_cells(profile, row, snap, today))
        if advance is not None and n % 500 == 0:
            advance(n)
    _check_duplicates(profile, plans, snap)
    _claim_addresses(profile, plans, snap)
    _resolve_addresses(profile, plans, snap)
    return plans


# ------------------------------------------------------------------------ cells


def _text(plan: RowPlan, key: str) -> str:
    value = " ".join(plan.values.get(key, "").split())
    if len(value) > _MAX_TEXT:
        plan.error(key, _("The text is too long (%(length)d characters; at most %(max)d).")
                   % {"length": len(value), "max": _MAX_TEXT})
    return value


def _check_cells(profile: Profile, row: RawRow, snap: Snapshot, today: dt.date) -> RowPlan:
    plan = RowPlan(line=row.line, values=row.values)
    naming = profile.naming
    plan.full_name = _text(plan, "full_name")
    if not plan.full_name:
        plan.error("full_name", _("The full name is empty: write the person's full name, "
                                  "family name first (e.g. Nguyễn Văn Nam)."),
                   naming.person_rule)
    else:
        try:
            parse_person_name(plan.full_name, rule=naming.person_rule)
        except NamingError as exc:
            plan.error("full_name", exc.message, exc.rule)
    _check_unit(plan, snap)
    plan.position = _text(plan, "position")
    _check_birth_date(plan, today)
    leader = fold(" ".join(plan.values.get("leader", "").split()))
    if leader in _TRUE:
        plan.leader = True
    elif leader not in _FALSE:
        plan.error("leader", _("Write “có” (yes) or leave it empty, not “%(value)s”.") % {
            "value": plan.values.get("leader", "")})
    if plan.unit_id is not None:
        try:
            plan.agency_abbr = person_agency_abbr(profile, snap.node(plan.unit_id))
        except NamingError as exc:
            plan.error("agency", exc.message, exc.rule)
    return plan


def _find_agency(ref: str, snap: Snapshot, *, within: int | None = None) -> list[int]:
    """Agencies named ``ref``: account name, else abbreviation, else full name (any case,
    with or without diacritics); ``within`` keeps the departments of one agency only."""
    key = ref.strip().lower()
    ids: list[int] = []
    found = snap.by_account_name.get(key)
    if found is not None:
        ids = [found]
    else:
        ids = list(snap.by_abbr.get(key, ())) or list(snap.by_abbr.get(fold(key), ()))
        if not ids:
            ids = list(snap.by_name.get(name_key(ref), ()))
    if within is not None:
        ids = [i for i in ids if snap.agencies[i].parent_id == within
               and snap.agencies[i].kind == AgencyKind.DEPARTMENT]
    return ids


def _check_unit(plan: RowPlan, snap: Snapshot) -> None:
    ref = _text(plan, "agency")
    if not ref:
        plan.error("agency", _("The agency is empty: write its account name or abbreviation "
                               "as in the directory (e.g. sotttt)."))
        return
    ids = _find_agency(ref, snap)
    if not ids:
        plan.error("agency", _("No agency “%(ref)s” in the directory: write the account name "
                               "or abbreviation of an agency listed under Directory (or add "
                               "the agency first).") % {"ref": ref})
        return
    if len(ids) > 1:
        names = ", ".join(sorted(snap.agencies[i].account_name for i in ids))
        plan.error("agency", _("“%(ref)s” names several agencies; write the account name of "
                               "the one meant: %(names)s.") % {"ref": ref, "names": names})
        return
    unit = ids[0]
    dept = _text(plan, "department")
    if dept:
        found = _find_agency(dept, snap, within=unit)
        if len(found) != 1:
            plan.error("department", _("%(agency)s has no department “%(ref)s” in the "
                                       "directory.") % {
                "agency": snap.agencies[unit].name, "ref": dept})
            return
        unit = found[0]
    plan.unit_id = unit


def _check_birth_date(plan: RowPlan, today: dt.date) -> None:
    text = plan.values.get("birth_date", "").strip()
    if not text:
        return
    for fmt in _DATE_FORMATS:
        try:
            born = dt.datetime.strptime(text, fmt).date()
        except ValueError:
            continue
        if born > today or born.year < 1900:
            plan.error("birth_date", _("“%(value)s” cannot be a birth date.") % {"value": text})
            return
        plan.birth_date = born
        return
    plan.error("birth_date", _("“%(value)s” is not a date: write it as dd/mm/yyyy "
                               "(e.g. 05/09/1985).") % {"value": text})


# ------------------------------------------------------------------- duplicates


def _check_duplicates(profile: Profile, plans: list[RowPlan], snap: Snapshot) -> None:
    """One account per person (spec §2): a row that repeats a person of the file (same
    name, agency and birth date), or a person who already has an account, is an error;
    the same name without a birth date to tell them apart is a note."""
    rule = ONE_ACCOUNT_RULES.get(profile.rule_prefix, "")
    seen: dict[tuple[str, int], list[RowPlan]] = {}
    for plan in plans:
        if plan.unit_id is None or not plan.full_name:
            continue
        key = (name_key(plan.full_name), snap.main_agency(plan.unit_id))
        for holder in snap.holders.get(key, ()):
            if plan.birth_date and holder.birth_date == plan.birth_date:
                plan.error("full_name", _("This person already has the account %(address)s "
                                          "(same name, agency and birth date): one account "
                                          "per person.") % {"address": holder.address}, rule)
                break
        else:
            holders = snap.holders.get(key, ())
            if holders and (plan.birth_date is None
                            or any(h.birth_date is None for h in holders)):
                plan.note("full_name", _("A person of the same name in this agency already "
                                         "has the account %(address)s: make sure it is not "
                                         "the same person.") % {"address": holders[0].address})
        for earlier in seen.get(key, ()):
            if plan.birth_date and earlier.birth_date == plan.birth_date:
                plan.error("full_name", _("Same person as row %(row)d (same name, agency and "
                                          "birth date): one account per person.") % {
                    "row": earlier.line}, rule)
                break
            if plan.birth_date is None or earlier.birth_date is None:
                plan.note("full_name", _("Row %(row)d has a person of the same name in this "
                                         "agency: make sure they are two people.") % {
                    "row": earlier.line})
                break
        seen.setdefault(key, []).append(plan)


# ------------------------------------------------------- wanted and old addresses


def _domain_local(profile: Profile, text: str) -> tuple[str, str]:
    value = text.strip().lower()
    if "@" not in value:
        return value, profile.mail.domain
    local, _sep, domain = value.rpartition("@")
    return local, domain


def _claim_addresses(profile: Profile, plans: list[RowPlan], snap: Snapshot) -> None:
    """Wanted addresses and old addresses kept as aliases: checked, and claimed first
    come, first served, so no two rows and no existing account share one."""
    claims: dict[str, int] = {}

    def claim(plan: RowPlan, column: str, local: str) -> bool:
        if local in snap.tombstones:
            return False
        if local in snap.taken:
            plan.error(column, _("The address %(address)s is already in use: an address is "
                                 "never given to two people.") % {
                "address": f"{local}@{profile.mail.domain}"})
            return False
        other = claims.get(local)
        if other is not None:
            plan.error(column, _("The address %(address)s is already taken by row %(row)d of "
                                 "this file.") % {"address": f"{local}@{profile.mail.domain}",
                                                  "row": other})
            return False
        claims[local] = plan.line
        return True

    for plan in plans:
        wanted = plan.values.get("wanted_address", "").strip()
        if wanted:
            local, domain = _domain_local(profile, wanted)
            if domain != profile.mail.domain:
                plan.error("wanted_address", _("The wanted address must be in %(domain)s.") % {
                    "domain": profile.mail.domain})
            else:
                try:
                    local = _validate_local_part(profile, local)
                except CongvuError as exc:
                    plan.error("wanted_address", exc.message)
                else:
                    if local in snap.tombstones:
                        plan.error("wanted_address", _(
                            "The address %(address)s belonged to a deleted account; it stays "
                            "reserved and is never given to someone else.") % {
                            "address": f"{local}@{profile.mail.domain}"})
                    elif plan.ok and claim(plan, "wanted_address", local):
                        plan.wanted = local
        _check_old_address(profile, plan, snap, claim)


def _check_old_address(profile: Profile, plan: RowPlan, snap: Snapshot,
                       claim: Claim) -> None:
    old = plan.values.get("old_address", "").strip()
    if not old:
        return
    migration = MIGRATION_RULES.get(profile.rule_prefix, "")
    local, domain = _domain_local(profile, old)
    if not _EMAIL.match(f"{local}@{domain}"):
        plan.error("old_address", _("“%(value)s” is not an e-mail address.") % {"value": old})
        return
    if domain != profile.mail.domain:
        plan.note("old_address", _("%(address)s is at another domain: it is recorded with the "
                                   "new account in the audit log, but this system does not "
                                   "receive mail for %(domain)s.") % {
            "address": f"{local}@{domain}", "domain": domain}, migration)
        return
    if local in snap.tombstones:
        plan.note("old_address", _("%(address)s belonged to a deleted account: it stays "
                                   "reserved and is not kept as an alias.") % {
            "address": f"{local}@{domain}"}, migration)
        return
    if not plan.ok:
        return
    if plan.wanted == local:
        return  # the old address is the new one: nothing to keep beside it
    if not plan.wanted and _is_own_base(profile, plan, local) and claim(plan, "old_address",
                                                                          local):
        plan.wanted = local  # the person rule gives exactly the old address: keep it
        return
    if claim(plan, "old_address", local):
        plan.alias = local


def _is_own_base(profile: Profile, plan: RowPlan, local: str) -> bool:
    try:
        return base_local_part(profile, plan.full_name, agency=plan.agency_abbr or None) == local
    except NamingError:
        return False


# ---------------------------------------------------------------- the addresses


def _resolve_addresses(profile: Profile, plans: list[RowPlan], snap: Snapshot) -> None:
    naming = profile.naming
    taken = set(snap.taken)
    taken.update(p.wanted for p in plans if p.ok and p.wanted)
    taken.update(p.alias for p in plans if p.ok and p.alias)
    batch = [p for p in plans if p.ok and not p.wanted]
    for plan in plans:
        if plan.ok and plan.wanted:
            plan.local_part, plan.candidates = plan.wanted, (plan.wanted,)
            plan.rule = (naming.person_rule if _is_own_base(profile, plan, plan.wanted)
                         else naming.collision_rule)

    def failed(index: int, exc: NamingError) -> None:
        batch[index - 1].error("address", exc.message, exc.rule)

    rows = [BatchRow(full_name=p.full_name, agency=p.agency_abbr or None, leader=p.leader)
            for p in batch]
    for plan, suggestion in zip(batch, _run_batch(profile, rows, taken, failed), strict=True):
        if suggestion is None:
            continue
        plan.local_part, plan.rule = suggestion.local_part, suggestion.rule
        plan.candidates = suggestion.candidates
    for plan in plans:
        if not plan.ok:
            plan.local_part, plan.rule, plan.candidates, plan.alias = "", "", (), ""
