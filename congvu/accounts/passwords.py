"""Password policy: checks (NB-8.2b, QN-8.1/8.2, NT-7) and one-time passwords.

Pure code, no database. Every number and switch comes from the profile's
:class:`~congvu.profiles.PasswordPolicy`; nothing here knows a province.

:func:`check_password` returns *every* broken rule so a form can list them all at once.
"""

from __future__ import annotations

import datetime as dt
import re
import secrets
import string
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass

from django.utils.translation import gettext as _

from congvu.profiles import PasswordPolicy
from congvu.text import fold

# Characters a generated password never contains, because they are confused with one
# another when read aloud, printed on a letter or typed from a screenshot: 0/O/o, 1/l/I/|.
_LOOKALIKES = frozenset("0Oo1lI|")
_GEN_UPPER = "".join(c for c in string.ascii_uppercase if c not in _LOOKALIKES)
_GEN_LOWER = "".join(c for c in string.ascii_lowercase if c not in _LOOKALIKES)
_GEN_DIGITS = "".join(c for c in string.digits if c not in _LOOKALIKES)
# Used only when the policy lists no special characters (any symbol counts then): a set
# that is easy to type on a Vietnamese (US-layout) keyboard and to dictate over the phone.
_GEN_SPECIALS = "!@#$%*&+=?"

# Separators people put between the parts of a date or a name: "12/05/1990", "nguyen.van".
_SEPARATORS = "/-._ \t"
_BETWEEN_DIGITS_RE = re.compile(r"(?<=\d)[/\-._\s]+(?=\d)")
_DIGIT_RUN_RE = re.compile(r"\d+")
_NAME_PART_SPLIT_RE = re.compile(r"[._]")
_TRAILING_DIGITS_RE = re.compile(r"\d+$")

_MIN_ACCOUNT_PART = 3  # dot/underscore parts of an account name shorter than this are ignored
_MIN_NAME_WORD = 2  # words of a person's name shorter than this are ignored


@dataclass(frozen=True)
class Violation:
    """One broken password rule.

    ``code`` is stable (for programs and tests), ``rule`` is the profile's rule ID
    (``NB-8.2b``, ``QN-8.1``, ``NT-7`` …) and ``message`` is the translated text.
    """

    code: str
    rule: str
    message: str


def _squeeze(text: str) -> str:
    """Fold and remove the separators people put between words (space . _ - /)."""
    folded = fold(text)
    return "".join(c for c in folded if c not in _SEPARATORS and not c.isspace())


def _is_special(char: str, special_chars: str) -> bool:
    """Whether ``char`` counts as a special character under the policy.

    With a listed set (NB-8.2b, NT-7: ``! @ # % $ * &``) only those count. Without one
    (QN-8.2 "!, @, #, …") any printable character that is neither a letter, a digit nor
    whitespace counts.
    """
    if special_chars:
        return char in special_chars
    return char.isprintable() and not char.isalnum() and not char.isspace()


def _spaced(chars: str) -> str:
    return " ".join(chars)


def _account_needles(username: str) -> list[str]:
    """Folded, separator-free forms of an account name that a password must not contain.

    ``thanhnn.skhcn@ninhbinh.gov.vn`` gives the address, the local part
    ``thanhnn.skhcn`` and its parts ``thanhnn``, ``skhcn``.
    """
    name = fold(username.strip())
    if not name:
        return []
    local = name.split("@", 1)[0]
    needles = [name, local]
    for part in _NAME_PART_SPLIT_RE.split(local):
        # Reading: a collision number (QN-4.2 ``vanntt1``, NT-4.2b ``tuanlv2``) does not
        # make the rest of the part acceptable, so the part without it counts too.
        for candidate in (part, _TRAILING_DIGITS_RE.sub("", part)):
            if len(candidate) >= _MIN_ACCOUNT_PART:
                needles.append(candidate)
    return _unique(_squeeze(n) for n in needles if _squeeze(n))


def _name_words(full_name: str) -> list[str]:
    """The words of a person's name (family, middle, given) of 2+ letters, as written."""
    return [w for w in full_name.split() if len(_squeeze(w)) >= _MIN_NAME_WORD]


def _unique(items: Iterable[str]) -> list[str]:
    return list(dict.fromkeys(items))


def _birth_date_forms(birth_date: dt.date) -> list[str]:
    """Digit strings that spell ``birth_date`` (separators removed).

    Padded: ddmmyyyy, yyyymmdd, mmddyyyy, ddmmyy, yymmdd. Unpadded with the four-digit
    year: d m yyyy, m d yyyy, yyyy m d (``12/5/1990`` → ``1251990``).

    Reading: the birth year alone (``1990``) and day+month alone (``1205``) are *not*
    rejected: NB-8.2b says "ngày sinh" (the date of birth), and a year or a day-month
    matches far too many unrelated passwords (``Nam2024@…``, years of events).
    """
    d, m = birth_date.day, birth_date.month
    yyyy = f"{birth_date.year:04d}"
    yy = yyyy[-2:]
    dd, mm = f"{d:02d}", f"{m:02d}"
    forms = [
        dd + mm + yyyy,
        yyyy + mm + dd,
        mm + dd + yyyy,
        dd + mm + yy,
        yy + mm + dd,
        f"{d}{m}{yyyy}",
        f"{m}{d}{yyyy}",
        f"{yyyy}{m}{d}",
    ]
    return _unique(forms)


def _contains_birth_date(password: str, birth_date: dt.date) -> bool:
    joined = _BETWEEN_DIGITS_RE.sub("", password)
    runs = _DIGIT_RUN_RE.findall(joined)
    forms = _birth_date_forms(birth_date)
    return any(form in run for run in runs for form in forms)


def check_password(
    policy: PasswordPolicy,
    password: str,
    *,
    username: str = "",
    full_name: str = "",
    birth_date: dt.date | None = None,
) -> list[Violation]:
    """Every rule of ``policy`` that ``password`` breaks, in a stable order (empty = valid).

    Length and character classes: NB-8.2b, QN-8.1/8.2, NT-7. Name and birth-date rules:
    NB-8.2b ("không chứa tên tài khoản, tên đầy đủ và ngày sinh"), QN-8.1 ("không trùng
    với họ, tên, chữ lót"). Names are compared case-insensitively after folding Vietnamese
    diacritics, and separators (space . _ - /) in the password are ignored, so
    ``Nguyen.Ngoc.Thanh`` contains the full name ``Nguyễn Ngọc Thành``.
    """
    rule = policy.rule
    out: list[Violation] = []

    def add(code: str, message: str) -> None:
        out.append(Violation(code=code, rule=rule, message=message))

    length = len(password)
    if length < policy.min_length:
        add("too_short", _(
            "The password must be at least %(min)d characters long (it has %(length)d)."
        ) % {"min": policy.min_length, "length": length})
    if policy.require_upper and not any(c.isupper() for c in password):
        add("missing_upper", _("The password must contain at least one upper-case letter."))
    if policy.require_lower and not any(c.islower() for c in password):
        add("missing_lower", _("The password must contain at least one lower-case letter."))
    if policy.require_digit and not any(c in string.digits for c in password):
        add("missing_digit", _("The password must contain at least one digit (0-9)."))
    if policy.require_special and not any(
        _is_special(c, policy.special_chars) for c in password
    ):
        if policy.special_chars:
            add("missing_special", _(
                "The password must contain at least one of these special characters: "
                "%(chars)s."
            ) % {"chars": _spaced(policy.special_chars)})
        else:
            add("missing_special", _(
                "The password must contain at least one special character (neither a "
                "letter nor a digit, for example ! @ # $)."
            ))

    # Reading (not in the seeds): characters that break sign-in elsewhere are refused.
    # Control characters cannot be typed at a mail client's prompt; leading/trailing
    # spaces are silently trimmed by many forms and copy-paste; letters with diacritics
    # are sent as different bytes by different Vietnamese input methods (Unikey's
    # "Unicode dựng sẵn" vs "Unicode tổ hợp") while Dovecot compares bytes, so the same
    # typed password would fail in IMAP/SMTP from another computer.
    if any(unicodedata.category(c) == "Cc" for c in password):
        add("control", _(
            "The password must not contain control characters (such as a tab or a line "
            "break)."
        ))
    if password and (password[0].isspace() or password[-1].isspace()):
        add("whitespace", _("The password must not begin or end with a space."))
    if any(ord(c) > 0x7E for c in password):
        add("non_ascii", _(
            "The password may contain only letters without diacritics, digits and the "
            "usual keyboard symbols: letters with Vietnamese diacritics are typed "
            "differently by different keyboards and mail programs."
        ))

    squeezed = _squeeze(password)
    if policy.forbid_account_name and username.strip():
        needles = _account_needles(username)
        if any(n in squeezed for n in needles):
            local = username.strip().split("@", 1)[0]
            shown = _unique([local, *(p for p in _NAME_PART_SPLIT_RE.split(local)
                                      if len(p) >= _MIN_ACCOUNT_PART)])
            add("contains_account_name", _(
                "The password must not contain the account name or a part of it "
                "(%(names)s)."
            ) % {"names": ", ".join(shown)})
    words = _name_words(full_name)
    if policy.forbid_full_name and words:
        whole = _squeeze(full_name)
        if len(whole) >= _MIN_ACCOUNT_PART and whole in squeezed:
            add("contains_full_name", _(
                "The password must not contain the full name of the account holder "
                "(%(name)s), even without diacritics or spaces."
            ) % {"name": " ".join(full_name.split())})
    if policy.forbid_name_parts and words and any(_squeeze(w) in squeezed for w in words):
        add("contains_name_part", _(
            "The password must not contain the family name, a middle name or the given "
            "name of the account holder (%(names)s), even without diacritics."
        ) % {"names": ", ".join(_unique(words))})
    if policy.forbid_birth_date and birth_date is not None and _contains_birth_date(
        password, birth_date
    ):
        add("contains_birth_date", _(
            "The password must not contain the account holder's date of birth in any "
            "form (day-month-year, year-month-day, with or without separators or "
            "leading zeros)."
        ))
    return out


def generate_one_time_password(policy: PasswordPolicy, length: int = 16) -> str:
    """A random one-time password that meets ``policy``'s length and classes.

    Issued on creation, restore and re-issue (NB-6.3, NB-7.3, KH-4.2, QN-6.2, NT-6.3b;
    instead of GL-6.2's fixed ``123456``); the holder must change it at first login.
    Look-alike characters (0/O/o, 1/l/I/|) are never used. Being random, it contains no
    name or date on purpose; a caller that checks it against a person's name can draw
    again in the (rare) case of an accidental two-letter match.
    """
    classes = [_GEN_UPPER, _GEN_LOWER, _GEN_DIGITS]
    if policy.require_special:
        listed = "".join(c for c in policy.special_chars if not c.isspace())
        specials = "".join(c for c in listed if c not in _LOOKALIKES) or listed
        classes.append(specials or _GEN_SPECIALS)
    size = max(length, policy.min_length, len(classes))
    chars = [secrets.choice(cls) for cls in classes]
    pool = "".join(classes)
    chars += [secrets.choice(pool) for _i in range(size - len(chars))]
    secrets.SystemRandom().shuffle(chars)
    return "".join(chars)
