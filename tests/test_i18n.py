"""Vietnamese is the default language: every user-facing message has a translation."""

from __future__ import annotations

import ast
import gettext
import re
from pathlib import Path

import pytest
from django.utils import translation

ROOT = Path(__file__).resolve().parents[1] / "congvu"
VI = ROOT / "locale" / "vi" / "LC_MESSAGES"
PLACEHOLDER = re.compile(r"%\(\w+\)[sdr]")


def source_msgids() -> dict[str, str]:
    """Every literal passed to ``_()``/``gettext()`` in the package, with its file."""
    found: dict[str, str] = {}
    for path in ROOT.rglob("*.py"):
        if "migrations" in path.parts:
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                    and node.func.id in {"_", "gettext", "gettext_lazy"} and node.args
                    and isinstance(node.args[0], ast.Constant)
                    and isinstance(node.args[0].value, str)):
                found[node.args[0].value] = str(path.relative_to(ROOT))
    return found


def po_entries(path: Path) -> dict[str, str]:
    entries: dict[str, str] = {}
    current: dict[str, str] = {}
    key = ""
    for raw in [*path.read_text(encoding="utf-8").splitlines(), ""]:
        line = raw.strip()
        if line.startswith("msgid ") or not line:
            if current.get("msgid"):
                entries[current["msgid"]] = current.get("msgstr", "")
            current, key = ({"msgid": ast.literal_eval(line[6:])}, "msgid") if line else ({}, "")
        elif line.startswith("msgstr "):
            current["msgstr"], key = ast.literal_eval(line[7:]), "msgstr"
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
    return entries


def test_every_message_in_the_code_has_a_vietnamese_translation() -> None:
    with (VI / "django.mo").open("rb") as fh:
        catalogue = gettext.GNUTranslations(fh)
    missing = [f"{where}: {msgid!r}" for msgid, where in source_msgids().items()
               if catalogue.gettext(msgid) == msgid]
    assert not missing, "run scripts/i18n and translate:\n" + "\n".join(missing)


def test_translations_keep_every_placeholder() -> None:
    wrong = [msgid for msgid, text in po_entries(VI / "django.po").items()
             if text and sorted(PLACEHOLDER.findall(msgid)) != sorted(PLACEHOLDER.findall(text))]
    assert not wrong


def test_compiled_catalogue_matches_the_source_catalogue() -> None:
    with (VI / "django.mo").open("rb") as fh:
        compiled = gettext.GNUTranslations(fh)
    stale = [m for m, t in po_entries(VI / "django.po").items()
             if t and compiled.gettext(m) != t]
    assert not stale, "run scripts/i18n to recompile django.mo"


@pytest.mark.parametrize(("lang", "word"), [("vi", "Lỗi"), ("en", "Error")])
def test_default_is_vietnamese_and_english_is_available(lang: str, word: str) -> None:
    with translation.override(lang):
        assert translation.gettext("Error") == word
