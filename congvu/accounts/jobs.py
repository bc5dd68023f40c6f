"""The tasks worker's side of the mailbox checks (NB-9.2, KH-10): the CSV file of many
mailboxes (an operator's whole province), built with its owner's rights as they are
when it runs, in the language it was asked in."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.utils import translation
from django.utils.translation import gettext as _

from congvu import deployment
from congvu.actors import Actor
from congvu.errors import CongvuError
from congvu.jobs.registry import Outcome, Progress, handler
from congvu.mail.monitoring import check_tables, checks_csv, checks_file_name, period
from congvu.workdays import calendar_for


def _day(params: dict[str, Any], key: str) -> dt.date:
    try:
        return dt.date.fromisoformat(str(params[key]))
    except (KeyError, TypeError, ValueError) as exc:
        raise CongvuError(_("This job is incomplete (%(error)s).") % {"error": exc}) from exc


@handler("mail.checks_csv")
def run_checks_csv(actor: Actor, params: dict[str, Any], source: bytes,
                   progress: Progress) -> Outcome:
    with translation.override(str(params.get("lang") or "vi")):
        profile = deployment.deployment_profile()
        per = period(calendar_for(profile), _day(params, "start"), _day(params, "end"),
                     _day(params, "today"))
        tables = check_tables(actor, profile, per, agency_ref=params.get("agency") or None,
                              below_only=bool(params.get("below")))
        total = sum(t.accounts.count() for t in tables.values())
        stage = _("Writing the file")
        progress.start(total, stage)
        data = checks_csv(tables, per, profile.timezone,
                          progress=lambda done: progress.advance(done, stage))
        progress.advance(total, stage)
        summary = {"mailboxes": total, "start": per.start.strftime("%d/%m/%Y"),
                   "end": per.end.strftime("%d/%m/%Y"), "days": len(per.days)}
    return Outcome(summary, file=data, file_name=checks_file_name(per),
                   file_type="text/csv; charset=utf-8")
