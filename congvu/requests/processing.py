"""The operator's processing screen (issue 6), its reads and checks: each row of a request
with the naming suggestions and the collision rule that applied (NB-5.4, KH-3.3b, QN-4.2,
NT-4.2b), and the check of the operator's address choices before anything is written.
The writes are the existing actions (take, fulfil, refuse a row, reject)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from congvu.accounts.naming import (
    NamingError,
    Suggestion,
    base_local_part,
    parse_person_name,
    person_agency_abbr,
    suggest_person,
)
from congvu.accounts.selectors import check_address_choice, taken_local_parts
from congvu.actors import Actor
from congvu.directory.selectors import node_of
from congvu.errors import CongvuError
from congvu.profiles import Profile
from congvu.requests.models import ItemAction, ItemStatus, RequestItem, ServiceRequest
from congvu.requests.selectors import items_of, request_detail, suggestions_for

#: Rows an operator can still act on.
UNSETTLED = (ItemStatus.PENDING, ItemStatus.FAILED)


@dataclass(frozen=True)
class Naming:
    """A person's address on the processing screen: the profile's base address, the
    suggestion (its rule: the person rule, or the collision rule when the base is taken)
    and why the base could not be used."""

    base: str
    suggestion: Suggestion | None
    #: "taken" (in use, reserved or a tombstone), "batch" (given to another row of this
    #: request, ``batch_row``), or "" when the base is free.
    collision: str = ""
    batch_row: int | None = None
    error: str = ""
    error_rule: str = ""


@dataclass(frozen=True)
class ProcessingRow:
    item: RequestItem
    naming: Naming | None = None

    @property
    def open(self) -> bool:
        return self.item.status in UNSETTLED


@dataclass(frozen=True)
class ProcessingScreen:
    request: ServiceRequest
    rows: list[ProcessingRow] = field(default_factory=list)


def _abbr(profile: Profile, req: ServiceRequest, item: RequestItem) -> str:
    return person_agency_abbr(profile, node_of(item.unit or req.agency))


def _naming(profile: Profile, req: ServiceRequest, item: RequestItem,
            suggestion: Suggestion | None, by_local: Mapping[str, int],
            taken: set[str]) -> Naming:
    try:
        base = base_local_part(profile, item.full_name, agency=_abbr(profile, req, item))
    except NamingError as exc:
        return Naming("", None, error=exc.message, error_rule=exc.rule)
    if suggestion is None:
        try:
            suggestion = suggest_person(profile, item.full_name,
                                        agency=_abbr(profile, req, item), taken=taken)
        except NamingError as exc:
            return Naming(base, None, error=exc.message, error_rule=exc.rule)
    if suggestion.local_part == base:
        return Naming(base, suggestion)
    if base in taken:
        return Naming(base, suggestion, collision="taken")
    return Naming(base, suggestion, collision="batch", batch_row=by_local.get(base))


def processing_screen(actor: Actor, profile: Profile, request_id: int) -> ProcessingScreen:
    """Operators only: the request and its rows; each person still to create with the
    address the profile gives and the free candidates, as one batch (leaders first,
    QN-4.2), against every address in use or tombstoned."""
    actor.require_operator()
    req = request_detail(actor, request_id)
    items = list(items_of(req))
    creating = [i for i in items if i.action == ItemAction.CREATE_PERSON
                and i.status in UNSETTLED]
    taken: set[str] = set()
    for item in creating:
        try:
            given = parse_person_name(item.full_name).given
        except NamingError:
            continue
        taken |= taken_local_parts(profile.mail.domain, containing=given)
    try:
        batch: dict[int, Suggestion] = suggestions_for(actor, profile, req)
    except NamingError:
        batch = {}  # one bad row: each row is then suggested (or explained) on its own
    by_local = {s.local_part: n for n, s in batch.items()}
    rows = []
    for item in items:
        naming = None
        if item in creating:
            naming = _naming(profile, req, item, batch.get(item.number), by_local, taken)
        rows.append(ProcessingRow(item, naming))
    return ProcessingScreen(req, rows)


def check_choices(actor: Actor, profile: Profile, screen: ProcessingScreen,
                  choices: Mapping[int, str]) -> dict[int, str]:
    """Every problem with the operator's addresses, by row number, before anything is
    written: the domain, the address format, a name in use or a tombstone, the same
    address chosen for two rows. Empty when everything can be tried."""
    actor.require_operator()
    rows = {r.item.number: r for r in screen.rows}
    problems: dict[int, str] = {}
    chosen: dict[str, int] = {}
    for number, text in sorted(choices.items()):
        row = rows.get(number)
        if row is None or row.naming is None or not row.open:
            problems[number] = _("Row %(n)d: an address is chosen only for a person still "
                                 "to be created.") % {"n": number}
            continue
        if not text.strip():
            problems[number] = _("Row %(n)d, address: choose a suggested address or type "
                                 "one.") % {"n": number}
            continue
        try:
            local = check_address_choice(profile, text)
        except CongvuError as exc:
            message = _("Row %(n)d, address: %(message)s") % {"n": number,
                                                              "message": exc.message}
            if exc.rule:
                message = _("%(message)s (rule %(rule)s)") % {"message": message,
                                                              "rule": exc.rule}
            problems[number] = message
            continue
        if local in chosen:
            problems[number] = _("Row %(n)d, address: %(address)s is already chosen for row "
                                 "%(other)d; each person needs their own address (rule "
                                 "%(rule)s).") % {
                "n": number, "address": f"{local}@{profile.mail.domain}",
                "other": chosen[local], "rule": profile.naming.collision_rule}
            continue
        chosen[local] = number
    return problems

