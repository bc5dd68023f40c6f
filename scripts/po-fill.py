"""Developers' tool: fill Vietnamese translations from JSON files {msgid: msgstr} into
congvu/locale/vi/LC_MESSAGES/django.po, replacing empty and fuzzy entries.
``scripts/i18n`` runs it on every ``scripts/translations/*.json`` (one file per area,
so parallel work never edits the same translations).

    .venv/bin/python scripts/po-fill.py a.json [b.json ...]
"""

from __future__ import annotations

import ast
import json
import sys
from pathlib import Path

PO = Path(__file__).resolve().parents[1] / "congvu/locale/vi/LC_MESSAGES/django.po"


def main() -> None:
    wanted: dict[str, str] = {}
    for name in sys.argv[1:]:
        wanted.update(json.loads(Path(name).read_text(encoding="utf-8")))
    blocks = PO.read_text(encoding="utf-8").split("\n\n")
    out = []
    for block in blocks:
        lines = block.split("\n")
        msgid, i = None, 0
        for i, line in enumerate(lines):
            if line.startswith("msgid "):
                msgid = ast.literal_eval(line[6:])
                j = i + 1
                while j < len(lines) and lines[j].startswith('"'):
                    msgid += ast.literal_eval(lines[j])
                    j += 1
                break
        if msgid and msgid in wanted:
            head = [x for x in lines[:i] if x != "#, fuzzy" and not x.startswith("#|")]
            head = [x.replace("#, fuzzy, ", "#, ") for x in head]
            body = lines[i:]
            k = next(n for n, x in enumerate(body) if x.startswith("msgstr "))
            lines = [*head, *body[:k], "msgstr " + json.dumps(wanted[msgid], ensure_ascii=False)]
        out.append("\n".join(lines))
    PO.write_text("\n\n".join(out), encoding="utf-8")


if __name__ == "__main__":
    main()
