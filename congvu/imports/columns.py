"""The columns of an import file and the header titles each accepts.

Titles are matched after the KH-3.1 folding (no diacritics, lowercase) with punctuation
turned into spaces, so "Cơ quan/đơn vị", "CO QUAN - DON VI" and "co_quan_don_vi" are one
title. Vietnamese titles are those of the province's forms (Mẫu 01: "Họ và tên",
"Chức vụ", "Bộ phận công tác"); English ones are the CLI's (``full_name``, ``agency``...).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

from django.utils.functional import Promise
from django.utils.translation import gettext_lazy as _

from congvu.text import fold

_PUNCTUATION = re.compile(r"[^a-z0-9]+")


@dataclass(frozen=True)
class Column:
    key: str
    #: What a clerk calls the column (also the first accepted title).
    label: Promise
    titles: tuple[str, ...]
    required: bool = False
    #: Titles as a clerk writes them (shown on the upload page).
    examples: tuple[str, ...] = ()


COLUMNS: tuple[Column, ...] = (
    Column("full_name", _("Full name"), (
        "ho va ten", "ho ten", "ho va ten day du", "ten day du", "ho ten can bo",
        "ho va ten can bo", "full name", "name", "person"), required=True,
        examples=("Họ và tên", "Họ tên", "full_name")),
    Column("agency", _("Agency/unit"), (
        "co quan", "don vi", "co quan don vi", "co quan don vi cong tac", "don vi cong tac",
        "co quan cong tac", "ma co quan", "ma don vi", "ten tai khoan co quan", "agency",
        "unit", "agency unit", "agency account name"), required=True,
        examples=("Cơ quan/đơn vị", "Đơn vị", "agency")),
    Column("department", _("Department"), (
        "phong ban", "phong", "bo phan", "bo phan cong tac", "phong ban bo phan",
        "department"),
        examples=("Phòng/ban", "Bộ phận công tác", "department")),
    Column("position", _("Position"), (
        "chuc vu", "chuc danh", "position", "title", "job title"),
        examples=("Chức vụ", "Chức danh", "position")),
    Column("birth_date", _("Birth date"), (
        "ngay sinh", "ngay thang nam sinh", "birth date", "date of birth", "birthday"),
        examples=("Ngày sinh", "birth_date")),
    Column("leader", _("Leader"), (
        "lanh dao", "la lanh dao", "leader", "is leader"),
        examples=("Lãnh đạo", "leader")),
    Column("old_address", _("Old address"), (
        "dia chi cu", "dia chi thu cu", "dia chi thu dien tu cu", "dia chi email cu",
        "dia chi hop thu cu", "hop thu cu", "email cu", "thu dien tu cu", "old address",
        "old email", "previous address"),
        examples=("Địa chỉ cũ", "Email cũ", "old_address")),
    Column("wanted_address", _("Wanted address"), (
        "dia chi mong muon", "dia chi de nghi", "dia chi de xuat", "dia chi yeu cau",
        "dia chi thu mong muon", "dia chi thu de nghi", "dia chi hop thu de nghi",
        "wanted address", "requested address", "desired address"),
        examples=("Địa chỉ mong muốn", "Địa chỉ đề nghị", "wanted_address")),
)

BY_KEY = {c.key: c for c in COLUMNS}
KEYS = tuple(c.key for c in COLUMNS)

#: Titles of numbering columns (STT): recognised so they are not reported as ignored.
NUMBERING = frozenset({"stt", "tt", "so tt", "so thu tu", "no", "number", "nr"})

_BY_TITLE = {title: c.key for c in COLUMNS for title in c.titles}


def normalise_title(text: str) -> str:
    """``"Cơ quan/đơn vị (*)"`` → ``"co quan don vi"``."""
    return " ".join(_PUNCTUATION.sub(" ", fold(" ".join(text.split()))).split())


def column_for(title: str) -> str | None:
    """The column key a header title names, ``""`` for a numbering column, or None."""
    key = normalise_title(title)
    if key in NUMBERING:
        return ""
    return _BY_TITLE.get(key)


def label(key: str) -> str:
    """The column's name in the user's language (for messages)."""
    return str(BY_KEY[key].label)


def column_letter(index: int) -> str:
    """0 → A, 25 → Z, 26 → AA: how a spreadsheet names the column."""
    letters = ""
    n = index + 1
    while n:
        n, rest = divmod(n - 1, 26)
        letters = chr(65 + rest) + letters
    return letters
