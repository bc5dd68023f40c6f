"""Every password message has a Vietnamese translation (congvu/locale/fragments/passwords.po)."""

from __future__ import annotations

import ast
import datetime as dt
import gettext
import re
import shutil
import subprocess
from pathlib import Path

import pytest
from django.conf import settings
from django.test import override_settings
from django.utils import translation

import congvu.accounts.passwords as passwords_module
from congvu.accounts.passwords import check_password
from congvu.profiles import load_profile

ROOT = Path(__file__).resolve().parents[2]
SOURCE = ROOT / "congvu" / "accounts" / "passwords.py"
FRAGMENT = ROOT / "congvu" / "locale" / "fragments" / "passwords.po"
PLACEHOLDER = re.compile(r"%\(\w+\)[sd]")
HEADER = 'msgid ""\nmsgstr ""\n"Content-Type: text/plain; charset=UTF-8\\n"\n\n'


def source_msgids() -> list[str]:
    tree = ast.parse(SOURCE.read_text(encoding="utf-8"))
    out = []
    for node in ast.walk(tree):
        if (isinstance(node, ast.Call) and isinstance(node.func, ast.Name)
                and node.func.id == "_" and node.args
                and isinstance(node.args[0], ast.Constant)
                and isinstance(node.args[0].value, str)):
            out.append(node.args[0].value)
    return out


def fragment_entries() -> dict[str, str]:
    """A minimal PO reader: msgid/msgstr with continuation lines, no plurals."""
    entries: dict[str, str] = {}
    key: str | None = None
    current: dict[str, str] = {}
    for line in FRAGMENT.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line.startswith("msgid "):
            if "msgid" in current:
                entries[current["msgid"]] = current.get("msgstr", "")
            current, key = {"msgid": ast.literal_eval(line[6:])}, "msgid"
        elif line.startswith("msgstr "):
            current["msgstr"], key = ast.literal_eval(line[7:]), "msgstr"
        elif line.startswith('"') and key:
            current[key] += ast.literal_eval(line)
    if "msgid" in current:
        entries[current["msgid"]] = current.get("msgstr", "")
    return entries


def test_every_message_is_in_the_fragment() -> None:
    msgids = source_msgids()
    assert len(msgids) >= 13
    entries = fragment_entries()
    assert sorted(entries) == sorted(set(msgids))
    for msgid, msgstr in entries.items():
        assert msgstr, msgid
        assert msgstr != msgid
        assert sorted(PLACEHOLDER.findall(msgstr)) == sorted(PLACEHOLDER.findall(msgid)), msgid
        assert msgid.isascii(), msgid


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (GNU gettext) not installed")
def test_fragment_compiles_and_messages_come_out_vietnamese(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    po = tmp_path / "passwords.po"
    po.write_text(HEADER + FRAGMENT.read_text(encoding="utf-8"), encoding="utf-8")
    mo = tmp_path / "passwords.mo"
    subprocess.run(["msgfmt", "--check-format", "-o", str(mo), str(po)], check=True)
    with mo.open("rb") as fh:
        catalogue = gettext.GNUTranslations(fh)

    used: set[str] = set()

    def lookup(msgid: str) -> str:
        used.add(msgid)
        out = catalogue.gettext(msgid)
        assert out != msgid, f"untranslated: {msgid}"
        return out

    monkeypatch.setattr(passwords_module, "_", lookup)
    every_rule = check_password(
        load_profile("ninh-binh").password, " nguyễnngocthanh\t12051990",
        username="thanhnn.skhcn", full_name="Nguyễn Ngọc Thành", birth_date=dt.date(1990, 5, 12),
    )
    assert [v.code for v in every_rule] == [
        "missing_upper", "missing_special", "control", "whitespace", "non_ascii",
        "contains_full_name", "contains_name_part", "contains_birth_date",
    ]
    more = check_password(load_profile("ninh-binh").password, "THANHNN", username="thanhnn.skhcn")
    assert [v.code for v in more] == [
        "too_short", "missing_lower", "missing_digit", "missing_special", "contains_account_name",
    ]
    any_special = check_password(load_profile("quang-nam").password, "aA1", username="x.thanhnn")
    every = [*every_rule, *more, *any_special]
    assert all(v.message.startswith("Mật khẩu") for v in every)
    texts = [v.message for v in any_special]
    assert "Mật khẩu phải có độ dài tối thiểu 8 ký tự (mật khẩu đã nhập có 3 ký tự)." in texts
    assert any("ký tự đặc biệt (không phải chữ cái" in t for t in texts)
    # Together these calls produced every message of the module.
    assert used == set(source_msgids())


def test_messages_are_vietnamese_once_catalogue_is_compiled() -> None:
    msgid = "The password must contain at least one upper-case letter."
    with translation.override("vi"):
        translated = translation.gettext(msgid)
    if translated == msgid:
        pytest.skip("the passwords fragment is not merged into the compiled vi catalogue yet")
    with translation.override("vi"):
        got = check_password(load_profile("ninh-binh").password, "x")
    assert all(v.message.startswith("Mật khẩu") for v in got)
    with translation.override("en"):
        got = check_password(load_profile("ninh-binh").password, "x")
    assert all(v.message.startswith("The password") for v in got)


@pytest.mark.skipif(shutil.which("msgfmt") is None, reason="msgfmt (GNU gettext) not installed")
def test_fragment_works_through_django_translation(tmp_path: Path) -> None:
    target = tmp_path / "vi" / "LC_MESSAGES"
    target.mkdir(parents=True)
    po = target / "django.po"
    po.write_text(HEADER + FRAGMENT.read_text(encoding="utf-8"), encoding="utf-8")
    subprocess.run(["msgfmt", "-o", str(target / "django.mo"), str(po)], check=True)
    with override_settings(LOCALE_PATHS=[tmp_path, *settings.LOCALE_PATHS]):
        with translation.override("vi"):
            got = check_password(load_profile("ninh-thuan").password, "abc")
        assert [v.message for v in got][-1] == (
            "Mật khẩu phải có ít nhất một trong các ký tự đặc biệt sau: ! @ # % $ * &."
        )
        assert all(v.message.startswith("Mật khẩu") for v in got)
        with translation.override("en"):
            got = check_password(load_profile("ninh-thuan").password, "abc")
        assert all(v.message.startswith("The password") for v in got)
