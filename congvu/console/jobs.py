"""The tasks worker's side of the console: a register file too large to build while the
reader waits (Decree 30 Phụ lục IV, a large agency's year), built with its owner's rights
as they are when it runs, in the language it was asked in."""

from __future__ import annotations

from typing import Any

from django.http import QueryDict
from django.utils import translation

from congvu.actors import Actor
from congvu.eoffice.register_export import MAX_PDF_ROWS, MAX_ROWS
from congvu.jobs.registry import Outcome, Progress, handler

#: A register file queued from ``console/pages/eoffice_registers.py``.
FILE_JOB = "eoffice.register_file"


@handler(FILE_JOB)
def run_register_file(actor: Actor, params: dict[str, Any], source: bytes,
                      progress: Progress) -> Outcome:
    from congvu.console.pages.eoffice_registers import register_file_for

    fmt = str(params.get("fmt") or "pdf")
    with translation.override(str(params.get("lang") or "vi")):
        body, content_type, name, rows = register_file_for(
            actor, str(params.get("kind") or "incoming"), fmt,
            QueryDict(str(params.get("query") or "")),
            limit=MAX_PDF_ROWS if fmt == "pdf" else MAX_ROWS, progress=progress)
    return Outcome({"rows": rows}, file=body, file_name=name, file_type=content_type)
