"""Queueing a report's file (XLSX or PDF) for the tasks worker: the reader's rights are
checked now (a forged agency is refused before anything is queued) and again when the
job runs; queueing is audited (``job.queue``) by :func:`congvu.jobs.actions.do_enqueue`."""

from __future__ import annotations

import datetime as dt

from django.utils.translation import gettext as _

from congvu.accounts.models import Account
from congvu.actors import Actor
from congvu.errors import CongvuError
from congvu.jobs.actions import do_enqueue
from congvu.jobs.models import Job
from congvu.profiles import Profile
from congvu.reports.build import ReportAsk
from congvu.reports.selectors import report_scope

#: The files a report is written as.
FORMATS = ("xlsx", "pdf")


def do_queue_report(*, actor: Actor, profile: Profile, ask: ReportAsk, file_format: str,
                    now: dt.datetime, lang: str, account: Account | None = None) -> Job:
    """Queue the report ``ask`` as ``file_format`` in the language ``lang``."""
    ask.check()
    if file_format not in FORMATS:
        raise CongvuError(_("Unknown file format %(format)r: choose XLSX or PDF.") % {
            "format": file_format})
    report_scope(actor, profile, ask.agency or None)
    params = {"report": ask.kind, "format": file_format, "start": ask.start.isoformat(),
              "end": ask.end.isoformat(), "agency": ask.agency, "days": ask.days,
              "lang": lang, "now": now.isoformat()}
    return do_enqueue(actor=actor, kind=f"reports.{ask.kind}", now=now, params=params,
                      account=account)
