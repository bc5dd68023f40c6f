"""The tasks worker's side of reports: build the report with its owner's rights (as they
are when it runs), in the language it was asked in, and write the XLSX or PDF."""

from __future__ import annotations

import datetime as dt
import re
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from congvu import clock, deployment
from congvu.actors import Actor
from congvu.errors import CongvuError
from congvu.jobs.registry import Outcome, Progress, handler
from congvu.reports.build import REPORT_KINDS, ReportAsk, build_report, fmt_date
from congvu.reports.model import Report
from congvu.text import fold


def file_name(report: Report, file_format: str) -> str:
    """``bao-cao-nam-2026_2025-12-16_2026-12-15.xlsx``: ASCII, so every system keeps it."""
    slug = re.sub(r"[^a-z0-9]+", "-", fold(report.title)).strip("-") or "report"
    return f"{slug}_{report.start.isoformat()}_{report.end.isoformat()}.{file_format}"


def _ask(params: dict[str, Any]) -> ReportAsk:
    try:
        return ReportAsk(kind=str(params["report"]),
                         start=dt.date.fromisoformat(str(params["start"])),
                         end=dt.date.fromisoformat(str(params["end"])),
                         agency=str(params.get("agency") or ""), days=int(params.get("days", 90)))
    except (KeyError, TypeError, ValueError) as exc:
        raise CongvuError(_("This report job is incomplete (%(error)s).") % {
            "error": exc}) from exc


def run_report(actor: Actor, params: dict[str, Any], source: bytes,
               progress: Progress) -> Outcome:
    from congvu.reports import pdf, xlsx

    ask = _ask(params)
    file_format = str(params.get("format", "xlsx"))
    writers = {"xlsx": (xlsx.report_xlsx, xlsx.CONTENT_TYPE),
               "pdf": (pdf.report_pdf, pdf.CONTENT_TYPE)}
    if file_format not in writers:
        raise CongvuError(_("Unknown file format %(format)r: choose XLSX or PDF.") % {
            "format": file_format})
    with translation.override(str(params.get("lang") or "vi")):
        profile = deployment.deployment_profile()
        now = (dt.datetime.fromisoformat(str(params["now"])) if params.get("now")
               else clock.now())
        report = build_report(actor, profile, ask, now=now, home=deployment.home(),
                              progress=progress, extra_steps=1)
        write, content_type = writers[file_format]
        progress.advance(len(report.sections), _("Writing the file"))
        data = write(report)
        summary = {"title": report.title, "subject": report.subject, "scope": report.scope,
                   "period": f"{fmt_date(report.start)} – {fmt_date(report.end)}",
                   "format": file_format.upper(), "tables": len(report.tables)}
    return Outcome(summary, file=data, file_name=file_name(report, file_format),
                   file_type=content_type)


for _kind in REPORT_KINDS:
    handler(f"reports.{_kind}")(run_report)
