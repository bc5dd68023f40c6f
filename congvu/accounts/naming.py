"""Address and account-name rules (spec §2): pure functions, no database.

Every format and policy comes from ``profile.naming`` and ``profile.mail.domain``:

- person formats: ``given-initials-agency`` (NB-5.3), ``initials-given`` (KH-3.3a),
  ``given-initials`` (QN-4.1, GL), ``middle-given`` (NT-4.2a);
- collision policies: ``ranked`` (NB-5.4, KH-3.3b), ``numbered`` (QN-4.2),
  ``fallbacks`` (NT-4.2b);
- agency formats: ``dotted`` (NB-5.1/5.2), ``underscored`` (KH-3.2a/b), ``nt`` (NT-4.1a–f).

A name is folded with the KH-3.1 conversion (:func:`congvu.text.fold`); a local part is
lowercase ASCII letters and digits joined by the profile's separator.
"""

from __future__ import annotations

import re
from collections.abc import Callable, Collection, Iterable, Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from itertools import count
from typing import Any, Literal, NamedTuple, get_args

from django.utils.translation import gettext as _

from congvu.errors import CongvuError
from congvu.profiles import Profile
from congvu.text import fold, split_words

__all__ = [
    "AgencyKind",
    "AgencyNode",
    "BatchRow",
    "NamingError",
    "PersonName",
    "Suggestion",
    "agency_local_part",
    "base_local_part",
    "normalise_abbr",
    "normalise_taken",
    "parse_person_name",
    "person_agency_abbr",
    "suggest_batch",
    "suggest_person",
    "validate_batch",
]

AgencyKind = Literal["province-dept", "district", "commune", "unit", "department"]
AGENCY_KINDS: tuple[str, ...] = get_args(AgencyKind)

#: How many free candidates a ranked suggestion offers (NB-5.4, KH-3.3b).
RANKED_CANDIDATES = 5
#: How many free candidates the deterministic policies (QN-4.2, NT-4.2b) offer.
FEW_CANDIDATES = 3

# Apostrophes and hyphens inside a word are dropped: ethnic-minority names such as
# "Ksor H'Bia", "Y-Moan", Ê Đê and Gia Rai names typed with ’ or ʼ.
_JOINERS = "'’‘ʼ`´-‐‑‒–—"
_DROP_JOINERS = str.maketrans("", "", _JOINERS)
_LETTERS = re.compile(r"[a-z]+")
_ABBR = re.compile(r"[a-z0-9]+")
_NOT_LETTER = re.compile(r"[^a-z]")
_NOT_ABBR = re.compile(r"[^a-z0-9]")


class NamingError(CongvuError):
    """No valid address or account name can be made from this input (spec §2)."""


def _with_rule(message: str, rule: str) -> str:
    if not rule:
        return message
    return _("%(message)s (rule %(rule)s)") % {"message": message, "rule": rule}


def _describe_char(char: str) -> str:
    return f"'{char}' (U+{ord(char):04X})"


# --------------------------------------------------------------------------- names


@dataclass(frozen=True)
class PersonName:
    """A parsed Vietnamese name: family name first, given name last (spec §2).

    ``family``, ``middles`` and ``given`` are folded a–z words (KH-3.1); ``original`` is
    the name as written, tidied (NFC, single spaces), for display.
    """

    family: str
    middles: tuple[str, ...]
    given: str
    original: str

    @property
    def initials(self) -> str:
        """First letter of the family name, then of each middle name (``nn``, ``ntt``)."""
        return self.family[0] + "".join(m[0] for m in self.middles)

    @property
    def middle_initials(self) -> str:
        """First letter of each middle name only."""
        return "".join(m[0] for m in self.middles)


class _BadWord(Exception):
    def __init__(self, kind: Literal["digits", "char"], char: str = "") -> None:
        super().__init__(kind)
        self.kind = kind
        self.char = char


@lru_cache(maxsize=1 << 16)
def _name_word(word: str) -> str:
    """Fold one word of a name to a–z; '' for a word that was only joiners or marks."""
    stripped = word.translate(_DROP_JOINERS)
    if any(c.isdigit() for c in stripped):
        raise _BadWord("digits")
    folded = fold(stripped)
    if folded and not _LETTERS.fullmatch(folded):
        for char in stripped:
            if _NOT_LETTER.search(fold(char)):
                raise _BadWord("char", char)
        raise _BadWord("char", _NOT_LETTER.findall(folded)[0])  # pragma: no cover
    return folded


def parse_person_name(full_name: str, *, rule: str = "") -> PersonName:
    """Split a full name into family, middle and given names, folded by KH-3.1.

    Spec §2: family name first, given name last, every word between is a middle name
    (none or several). Apostrophes and hyphens inside words are dropped. ``rule`` (the
    profile's person rule) is cited in the error messages.

    Raises NamingError for an empty name, a word with digits, a character with no a–z
    equivalent, or a single word.
    """
    words = split_words(full_name)
    original = " ".join(words)
    if not words:
        raise NamingError(
            _with_rule(
                _("The name is empty: give the person's full name, family name first and "
                  "given name last."),
                rule,
            ),
            rule=rule,
        )
    folded: list[str] = []
    for word in words:
        try:
            part = _name_word(word)
        except _BadWord as bad:
            if bad.kind == "digits":
                message = _(
                    "The word '%(word)s' in the name '%(name)s' contains digits: a person's "
                    "name is written in letters only."
                ) % {"word": word, "name": original}
            else:
                message = _(
                    "The character %(char)s in the name '%(name)s' cannot be converted to the "
                    "letters a-z of an address."
                ) % {"char": _describe_char(bad.char), "name": original}
            raise NamingError(_with_rule(message, rule), rule=rule) from None
        if part:
            folded.append(part)
    if len(folded) < 2:
        raise NamingError(
            _with_rule(
                _("The name '%(name)s' has a single word: an address needs a family name and a "
                  "given name (e.g. Nguyễn Văn Nam).") % {"name": original},
                rule,
            ),
            rule=rule,
        )
    return PersonName(
        family=folded[0], middles=tuple(folded[1:-1]), given=folded[-1], original=original
    )


def normalise_abbr(abbr: str, *, rule: str = "") -> str:
    """An agency abbreviation as it appears in addresses: KH-3.1 fold, lowercase, [a-z0-9]+.

    Used for every agency part (NB-5.1/5.2/5.3, KH-3.2, NT-4.1, NT-4.2b). Surrounding
    spaces are ignored; anything else that is not a letter or digit is an error.
    """
    return _normalise_abbr(abbr, rule)


@lru_cache(maxsize=4096)
def _normalise_abbr(abbr: str, rule: str) -> str:
    text = " ".join(split_words(abbr))
    folded = fold(text)
    if not folded:
        raise NamingError(
            _with_rule(_("The agency abbreviation is empty."), rule), rule=rule
        )
    if not _ABBR.fullmatch(folded):
        bad = next(c for c in text if _NOT_ABBR.search(fold(c)))
        raise NamingError(
            _with_rule(
                _("The agency abbreviation '%(abbr)s' contains %(char)s: an abbreviation uses "
                  "only the letters a-z and the digits 0-9.")
                % {"abbr": text, "char": _describe_char(bad)},
                rule,
            ),
            rule=rule,
        )
    return folded


def normalise_taken(profile: Profile, taken: Iterable[str]) -> set[str]:
    """Local parts already in use or reserved (tombstones), lowercased.

    Full addresses are accepted: ``x@<profile domain>`` counts as ``x``. Reading: an
    address at another domain also reserves its local part (mailboxes migrated from a
    former domain, NB-13), since a false reservation only costs a fallback name.
    """
    domain = "@" + profile.mail.domain.lower()
    out: set[str] = set()
    for item in taken:
        text = item.strip().lower()
        if text.endswith(domain):
            text = text[: -len(domain)]
        elif "@" in text:
            text = text.rsplit("@", 1)[0]
        if text:
            out.add(text)
    return out


# --------------------------------------------------------------------- person rules


class _Base(NamedTuple):
    """A person's base local part split as ``core + suffix`` (suffix = ``.<agency>``)."""

    core: str
    suffix: str
    local_part: str


def _check_length(profile: Profile, local: str, name: str, rule: str) -> None:
    """``profile.naming.max_local_part`` (64 by default, the SMTP limit of RFC 5321)."""
    limit = profile.naming.max_local_part
    if len(local) > limit:
        raise NamingError(
            _("The address '%(local)s' made from '%(name)s' has %(length)d characters, more "
              "than the limit of %(limit)d (rule %(rule)s).")
            % {"local": local, "name": name, "length": len(local), "limit": limit,
               "rule": rule},
            rule=rule,
        )


def _base(profile: Profile, person: PersonName, agency: str | None) -> _Base:
    """The person rule of the profile: NB-5.3, KH-3.3a, QN-4.1 or NT-4.2a."""
    naming = profile.naming
    fmt, rule = naming.person, naming.person_rule
    if fmt == "given-initials-agency":
        # NB-5.3: <given><initials of family and middle names>.<agency> (thanhnn.skhcn)
        core = person.given + person.initials
        if agency is None:
            raise NamingError(
                _("Rule %(rule)s puts the agency's abbreviation in a person's address "
                  "(%(example)s): give the agency with --agency.")
                % {"rule": rule, "example": f"{core}{naming.agency_separator}<agency>"},
                rule=rule,
            )
        suffix = naming.agency_separator + agency
        base = _Base(core, suffix, core + suffix)
    elif fmt == "initials-given":
        # KH-3.3a: <family initial><middle initials><given> (ldphuong)
        core = person.initials + person.given
        base = _Base(core, "", core)
    elif fmt == "given-initials":
        # QN-4.1: <given><family initial><middle initials> (namnv)
        core = person.given + person.initials
        base = _Base(core, "", core)
    elif fmt == "middle-given":
        # NT-4.2a: <middle names><given> in full (quoctrang)
        core = "".join(person.middles) + person.given
        base = _Base(core, "", core)
    else:
        raise NamingError(
            _("Unknown person address format '%(format)s' in the profile setting "
              "naming.person.") % {"format": fmt}
        )
    _check_length(profile, base.local_part, person.original, rule)
    return base


def _clean_agency(agency: str | None, rule: str) -> str | None:
    """Reading: a blank agency counts as no agency."""
    if agency is None or not agency.strip():
        return None
    return normalise_abbr(agency, rule=rule)


def base_local_part(profile: Profile, full_name: str, *, agency: str | None = None) -> str:
    """The address the profile's person rule gives, before any collision handling.

    NB-5.3 ``thanhnn.skhcn``, KH-3.3a ``ldphuong``, QN-4.1 ``namnv``, NT-4.2a ``quoctrang``.
    """
    rule = profile.naming.person_rule
    person = parse_person_name(full_name, rule=rule)
    return _base(profile, person, _clean_agency(agency, rule)).local_part


# --------------------------------------------------------------- collision policies

# A candidate stream yields local parts in priority order; _NEED_AGENCY marks the point
# where the next candidates would need an agency abbreviation that was not given.
_NEED_AGENCY = ""


def _numbered(
    core: str,
    suffix: str,
    start: int,
    limit: int,
    taken: Collection[str],
    hints: dict[tuple[str, str], int],
) -> Iterator[str]:
    """``<core><n><suffix>`` for n = start, start+1, … within the length limit.

    ``hints`` remembers, per (core, suffix), the smallest n not known to be taken, so a
    batch with many namesakes does not rescan 1, 2, 3… for each of them. It is valid
    because ``taken`` only grows.
    """
    key = (core, suffix)
    for n in count(max(start, hints.get(key, start))):
        cand = f"{core}{n}{suffix}"
        if len(cand) > limit:
            return
        if cand in taken and hints.get(key, start) == n:
            hints[key] = n + 1
        yield cand


def _ranked_stems(person: PersonName) -> list[str]:
    """Short, memorable alternatives that contain the person's given name (NB-5.4, KH-3.3b).

    Reading: every candidate keeps the full given name plus at least as much of the
    rest of the name as an initial, so it stays recognisable and no less specific than
    the base; the bare given name alone is never proposed.
    """
    p = person
    middles = "".join(p.middles)
    return [
        p.initials + p.given,  # KH order: ldphuong / nnthanh
        p.given + p.initials,  # QN order: phuongld / thanhnn
        middles + p.given,  # NT order: ducphuong / ngocthanh
        p.given + middles,  # phuongduc
        p.family + p.given,  # lephuong
        p.given + p.family,  # phuongle
        p.family + middles + p.given,  # leducphuong
        p.given + p.middle_initials + p.family,  # phuongdle
    ]


def _ranked_stream(
    profile: Profile,
    person: PersonName,
    base: _Base,
    agency: str | None,
    taken: Collection[str],
    hints: dict[tuple[str, str], int],
) -> Iterator[str]:
    """NB-5.4 / KH-3.3b: base, then ranked alternatives, then numbered variants.

    Alternatives without digits come first, shorter first (ties keep the order of
    :func:`_ranked_stems`); the agency suffix is kept when the person rule has one
    (NB); when it has none and an agency is known, ``<base><sep><agency>`` (KH's old
    style ``nvnguyen_ttr``) is one of the alternatives. Then ``<core><n><suffix>`` with
    n from ``number_start``.
    """
    naming = profile.naming
    limit = naming.max_local_part
    yield base.local_part
    alternatives: list[str] = []
    seen = {base.local_part}
    for stem in _ranked_stems(person):
        if stem != person.given:
            alternatives.append(stem + base.suffix)
    if not base.suffix and agency is not None:
        alternatives.append(base.core + naming.agency_separator + agency)
    ranked: list[str] = []
    for cand in alternatives:
        if cand not in seen and len(cand) <= limit:
            seen.add(cand)
            ranked.append(cand)
    ranked.sort(key=len)
    yield from ranked
    yield from _numbered(base.core, base.suffix, naming.number_start, limit, taken, hints)


def _numbered_stream(
    profile: Profile,
    base: _Base,
    taken: Collection[str],
    hints: dict[tuple[str, str], int],
) -> Iterator[str]:
    """QN-4.2: the base, then ``<base><n>`` with n from ``number_start`` (vanntt1, vanntt2)."""
    naming = profile.naming
    yield base.local_part
    yield from _numbered(
        base.core, base.suffix, naming.number_start, naming.max_local_part, taken, hints
    )


def _fallback_stream(
    profile: Profile,
    person: PersonName,
    base: _Base,
    agency: str | None,
    taken: Collection[str],
    hints: dict[tuple[str, str], int],
) -> Iterator[str]:
    """NT-4.2b, in order: base (vantuan), ``<given><initials>`` (tuanlv), that +
    ``.<agency>`` (tuanlv.nh), then ``<given><initials><n>.<agency>`` with n from
    ``number_start`` (tuanlv2.nh, tuanlv3.nh…)."""
    naming = profile.naming
    limit = naming.max_local_part
    yield base.local_part
    alt = person.given + person.initials + base.suffix
    if len(alt) <= limit:
        yield alt
    if agency is None:
        yield _NEED_AGENCY
        return
    suffix = base.suffix + naming.agency_separator + agency
    with_agency = person.given + person.initials + suffix
    if len(with_agency) <= limit:
        yield with_agency
    yield from _numbered(
        person.given + person.initials, suffix, naming.number_start, limit, taken, hints
    )


@dataclass(frozen=True)
class Suggestion:
    """A proposed local part, the rule that produced it and the free alternatives.

    ``rule`` is the person rule (NB-5.3, KH-3.3a, QN-4.1, NT-4.2a) when the base was
    free, else the collision rule (NB-5.4, KH-3.3b, QN-4.2, NT-4.2b).
    ``candidates[0] == local_part``.
    """

    local_part: str
    address: str
    rule: str
    candidates: tuple[str, ...]

    def to_json(self) -> dict[str, Any]:
        """``{"local_part", "address", "rule", "candidates"}`` for ``--json`` output."""
        return {
            "local_part": self.local_part,
            "address": self.address,
            "rule": self.rule,
            "candidates": list(self.candidates),
        }


class _Prepared(NamedTuple):
    person: PersonName
    agency: str | None
    base: _Base


def _prepare(profile: Profile, full_name: str, agency: str | None) -> _Prepared:
    rule = profile.naming.person_rule
    person = parse_person_name(full_name, rule=rule)
    clean_agency = _clean_agency(agency, rule)
    return _Prepared(person, clean_agency, _base(profile, person, clean_agency))


def _stream(
    profile: Profile,
    prep: _Prepared,
    taken: Collection[str],
    hints: dict[tuple[str, str], int],
) -> Iterator[str]:
    policy = profile.naming.collision
    if policy == "numbered":
        return _numbered_stream(profile, prep.base, taken, hints)
    if policy == "fallbacks":
        return _fallback_stream(profile, prep.person, prep.base, prep.agency, taken, hints)
    if policy == "ranked":
        return _ranked_stream(profile, prep.person, prep.base, prep.agency, taken, hints)
    raise NamingError(
        _("Unknown collision policy '%(policy)s' in the profile setting naming.collision.")
        % {"policy": policy}
    )


def _resolve(
    profile: Profile,
    prep: _Prepared,
    taken: Collection[str],
    hints: dict[tuple[str, str], int],
) -> Suggestion:
    """Apply the profile's collision policy (NB-5.4, KH-3.3b, QN-4.2, NT-4.2b)."""
    naming = profile.naming
    wanted = RANKED_CANDIDATES if naming.collision == "ranked" else FEW_CANDIDATES
    free: list[str] = []
    tried: list[str] = []
    seen: set[str] = set()
    for cand in _stream(profile, prep, taken, hints):
        if cand == _NEED_AGENCY:
            if free:
                break
            raise NamingError(
                _("The addresses %(tried)s are taken; rule %(rule)s then adds the agency's "
                  "abbreviation (%(example)s): give the agency with --agency.")
                % {"tried": ", ".join(tried), "rule": naming.collision_rule,
                   "example": f"{tried[-1]}{naming.agency_separator}<agency>"},
                rule=naming.collision_rule,
            )
        if cand in seen:
            continue
        seen.add(cand)
        if cand in taken:
            tried.append(cand)
            continue
        free.append(cand)
        if len(free) >= wanted:
            break
    if not free:
        raise NamingError(
            _("No free address within %(limit)d characters for '%(name)s' (rule %(rule)s); "
              "agree a name with the requester and create it by hand.")
            % {"limit": naming.max_local_part, "name": prep.person.original,
               "rule": naming.collision_rule},
            rule=naming.collision_rule,
        )
    local = free[0]
    rule = naming.person_rule if local == prep.base.local_part else naming.collision_rule
    return Suggestion(
        local_part=local,
        address=f"{local}@{profile.mail.domain}",
        rule=rule,
        candidates=tuple(free),
    )


def suggest_person(
    profile: Profile,
    full_name: str,
    *,
    agency: str | None = None,
    taken: Iterable[str] = (),
    leader: bool = False,
) -> Suggestion:
    """Propose an address for one person under the profile's rules.

    Person rule: NB-5.3, KH-3.3a, QN-4.1 or NT-4.2a; on collision with ``taken`` (local
    parts or full addresses, case-insensitive): NB-5.4/KH-3.3b ranked candidates, QN-4.2
    numbering or NT-4.2b fallbacks. ``leader`` (QN-4.2) matters only for ordering inside
    a batch: a leader keeps the base when it is free, which is the case for anyone here.
    """
    del leader  # QN-4.2: no effect for one person (the base is kept whenever it is free)
    prep = _prepare(profile, full_name, agency)
    return _resolve(profile, prep, normalise_taken(profile, taken), {})


# -------------------------------------------------------------------------- batches


@dataclass(frozen=True)
class BatchRow:
    """One person of a provisioning request (KH Mẫu 01, a CSV file)."""

    full_name: str
    agency: str | None = None
    leader: bool = False


def _row_message(row: int, message: str) -> str:
    return _("Row %(row)d: %(message)s") % {"row": row, "message": message}


def _run_batch(
    profile: Profile,
    rows: Sequence[BatchRow],
    taken: Iterable[str],
    on_error: Callable[[int, NamingError], None],
) -> list[Suggestion | None]:
    """Resolve every row (leaders first, QN-4.2); report bad rows to ``on_error``."""
    prepared: list[_Prepared | None] = []
    for index, row in enumerate(rows, start=1):
        try:
            prepared.append(_prepare(profile, row.full_name, row.agency))
        except NamingError as exc:
            prepared.append(None)
            on_error(index, exc)
    used = normalise_taken(profile, taken)
    hints: dict[tuple[str, str], int] = {}
    # QN-4.2: leaders first, so a leader keeps the base wherever they appear in the file;
    # otherwise input order (first come, first served).
    order = sorted(range(len(rows)), key=lambda i: not rows[i].leader)
    results: list[Suggestion | None] = [None] * len(rows)
    for i in order:
        prep = prepared[i]
        if prep is None:
            continue
        try:
            suggestion = _resolve(profile, prep, used, hints)
        except NamingError as exc:
            on_error(i + 1, exc)
            continue
        used.add(suggestion.local_part)
        results[i] = suggestion
    # Candidates were free when each row was resolved; drop those later given to others.
    assigned = {s.local_part for s in results if s is not None}
    for i, s in enumerate(results):
        if s is None or len(s.candidates) == 1:
            continue
        rest = tuple(c for c in s.candidates[1:] if c not in assigned)
        if len(rest) < len(s.candidates) - 1:
            results[i] = Suggestion(s.local_part, s.address, s.rule, (s.local_part, *rest))
    return results


def _numbering(rows: Sequence[BatchRow], row_numbers: Sequence[int] | None) -> Sequence[int]:
    if row_numbers is None:
        return range(1, len(rows) + 1)
    if len(row_numbers) != len(rows):
        raise ValueError("row_numbers must have one number per row")
    return row_numbers


def validate_batch(
    profile: Profile,
    rows: Sequence[BatchRow],
    taken: Iterable[str] = (),
    *,
    row_numbers: Sequence[int] | None = None,
) -> list[str]:
    """Every problem of a batch, each message starting with its 1-based row number.

    Covers the name and agency checks (spec §2, KH-3.1), the person rule's needs (NB-5.3
    agency, length limit) and the collision policy's (NT-4.2b agency, against ``taken``
    and the rows before). ``row_numbers`` replaces 1, 2, 3… in the messages (e.g. the
    CSV line numbers).
    """
    numbers = _numbering(rows, row_numbers)
    problems: list[tuple[int, str]] = []

    def collect(row: int, exc: NamingError) -> None:
        problems.append((row, _row_message(numbers[row - 1], exc.message)))

    _run_batch(profile, rows, taken, collect)
    return [message for _row, message in sorted(problems, key=lambda p: p[0])]


def suggest_batch(
    profile: Profile,
    rows: Sequence[BatchRow],
    taken: set[str],
    *,
    row_numbers: Sequence[int] | None = None,
) -> list[Suggestion]:
    """Addresses for a whole request, in input order, unique among themselves and ``taken``.

    ``taken`` holds existing and tombstoned local parts or addresses (not modified).
    Leaders are assigned first (QN-4.2); collisions follow the profile's policy
    (NB-5.4, KH-3.3b, QN-4.2, NT-4.2b). Raises NamingError for the first bad row, its
    message starting with the row number (or ``row_numbers[i]``); :func:`validate_batch`
    lists them all.
    """
    numbers = _numbering(rows, row_numbers)
    problems: list[tuple[int, NamingError]] = []
    results = _run_batch(profile, rows, taken, lambda row, exc: problems.append((row, exc)))
    if problems:
        row, exc = min(problems, key=lambda p: p[0])
        raise NamingError(_row_message(numbers[row - 1], exc.message), rule=exc.rule)
    return [s for s in results if s is not None]


# -------------------------------------------------------------------- agency names


@dataclass(frozen=True)
class AgencyNode:
    """An agency or unit in the directory tree, as the naming rules see it.

    ``kind`` is one of :data:`AgencyKind` (checked by :func:`agency_local_part`).
    """

    abbr: str
    kind: str
    account_name: str
    parent: AgencyNode | None = None


def _nt_agency(abbr: str, kind: str, parent: AgencyNode | None) -> tuple[str, str]:
    """NT-4.1a–f account names for agencies, districts, communes and their units."""
    if kind == "district":
        return f"ubnd_{abbr}", "NT-4.1b"  # ubnd_prtc
    if kind == "commune":
        return f"ubnd_{abbr}", "NT-4.1c"  # ubnd_phuochai
    if parent is None or kind == "province-dept":
        return abbr, "NT-4.1a"  # sotttt
    if parent.kind == "department":
        raise NamingError(
            _("Rule NT-4.1 has no account name for a %(kind)s under a department "
              "(%(parent)s); attach it to the agency instead.")
            % {"kind": kind, "parent": parent.account_name},
            rule="NT-4.1",
        )
    parent_abbr = normalise_abbr(parent.abbr, rule="NT-4.1")
    if parent.kind in ("district", "commune"):
        return f"{abbr}_{parent_abbr}", "NT-4.1f"  # vhtt_ns
    # Under a provincial department (or, Reading: under one of its units).
    if kind == "department":
        return f"{parent_abbr}_{abbr}", "NT-4.1d"  # sonv_vp
    return abbr, "NT-4.1e"  # ttcntttt


def agency_local_part(
    profile: Profile, abbr: str, kind: str, parent: AgencyNode | None
) -> tuple[str, str]:
    """The account name (local part) of an agency or unit, and the rule that made it.

    ``dotted``: NB-5.1 ``skhcn``, NB-5.2 ``<abbr>.<parent account name>`` (ttcdstt.skhcn).
    ``underscored``: KH-3.2a ``stttt``, KH-3.2b ``<abbr>_<parent account name>`` (pvhtt_cl).
    ``nt``: NT-4.1a ``sotttt``, b ``ubnd_prtc``, c ``ubnd_phuochai``, d ``sonv_vp``,
    e ``ttcntttt``, f ``vhtt_ns``.
    """
    naming = profile.naming
    if kind not in AGENCY_KINDS:
        raise NamingError(
            _("Unknown agency kind '%(kind)s'; expected one of %(kinds)s.")
            % {"kind": kind, "kinds": ", ".join(AGENCY_KINDS)}
        )
    fmt = naming.agency
    clean = normalise_abbr(abbr, rule=naming.agency_rule)
    if fmt in ("dotted", "underscored"):
        if parent is None:
            local, rule = clean, naming.agency_rule
        else:
            local = clean + naming.agency_separator + parent.account_name.lower()
            rule = naming.unit_rule
    elif fmt == "nt":
        local, rule = _nt_agency(clean, kind, parent)
    else:
        raise NamingError(
            _("Unknown agency account format '%(format)s' in the profile setting "
              "naming.agency.") % {"format": fmt}
        )
    limit = naming.max_local_part
    if len(local) > limit:
        raise NamingError(
            _("The account name '%(local)s' has %(length)d characters, more than the limit "
              "of %(limit)d (rule %(rule)s).")
            % {"local": local, "length": len(local), "limit": limit, "rule": rule},
            rule=rule,
        )
    return local, rule


def person_agency_abbr(profile: Profile, node: AgencyNode) -> str:
    """The agency abbreviation in the address of a person working in ``node``.

    NT-4.2b: the top-level ancestor (the sở/ban/ngành or district UBND, e.g. ``nh``).
    NB-5.3 and the others (Reading): the nearest ancestor-or-self that is not a
    department, since a phòng's staff use their agency's abbreviation.
    """
    current = node
    if profile.naming.collision == "fallbacks":
        while current.parent is not None:
            current = current.parent
    else:
        while current.kind == "department" and current.parent is not None:
            current = current.parent
    return normalise_abbr(current.abbr, rule=profile.naming.person_rule)
