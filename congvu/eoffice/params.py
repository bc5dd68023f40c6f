"""The eOffice's system parameters (GL-3.4: the administrator sets the system and the
document-processing workflow parameters), as settings, never constants in code.

A deployment's ``congvu.toml`` may set any of them in an ``[eoffice]`` table::

    [eoffice]
    review_span = "3 working days"      # GL-10.7 (default: the profile's sla.review_draft)
    urgent_review_span = "1 working days"
    registration_span = "1 working days"  # Decree 30 Art. 23: same or next working day
    summary_min_words = 6               # GL-9.1 guidance
    max_file_mb = 50
    incoming_pdf_only = true            # scans and electronic originals are PDF
    accepted_types = ["pdf", "docx", "doc", "odt", "rtf", "txt", "xlsx", "xls", "ods"]
    mail_notices = true                 # urgent documents also notify by mail
    escalate_assignments = true         # run_due flags missed assignment deadlines

Pure: reading ``congvu.toml`` happens in :func:`deployment_params` only.
"""

from __future__ import annotations

from dataclasses import dataclass, fields
from typing import Any

from django.utils.translation import gettext as _

from congvu.errors import CongvuError
from congvu.profiles import Duration, Profile

REVIEW_SLA = "review_draft"
_THREE_DAYS = Duration(3, "days", working=True)
_ONE_DAY = Duration(1, "days", working=True)


@dataclass(frozen=True)
class EofficeParams:
    review_span: Duration = _THREE_DAYS
    review_rule: str = "GL-10.7"
    urgent_review_span: Duration = _ONE_DAY
    registration_span: Duration = _ONE_DAY
    summary_min_words: int = 6
    max_file_mb: int = 50
    incoming_pdf_only: bool = True
    accepted_types: tuple[str, ...] = ("pdf", "docx", "doc", "odt", "rtf", "txt", "xlsx",
                                       "xls", "ods")
    mail_notices: bool = True
    escalate_assignments: bool = True


_SPANS = ("review_span", "urgent_review_span", "registration_span")


def params_for(profile: Profile, config: dict[str, Any] | None = None) -> EofficeParams:
    """The parameters: defaults, then the profile's ``sla.review_draft`` (GL-10.7), then
    the ``[eoffice]`` table ``config``. Unknown keys and malformed values are errors."""
    values: dict[str, Any] = {}
    review = profile.sla.get(REVIEW_SLA)
    if review is not None:
        values["review_span"] = review
        values["review_rule"] = profile.sla_rules.get(REVIEW_SLA, "GL-10.7")
    table = dict(config or {})
    known = {f.name for f in fields(EofficeParams)}
    unknown = sorted(set(table) - known)
    if unknown:
        raise CongvuError(_("Unknown eOffice setting(s) %(keys)s in [eoffice]; valid: "
                            "%(valid)s.") % {"keys": ", ".join(unknown),
                                            "valid": ", ".join(sorted(known))})
    for key, value in table.items():
        if key in _SPANS:
            span = Duration.parse(str(value))
            if span is None or not span.working or span.unit != "days":
                raise CongvuError(_("[eoffice] %(key)s must be a number of working days, "
                                    "e.g. \"3 working days\" (got %(value)r).") % {
                    "key": key, "value": value})
            values[key] = span
        elif key == "accepted_types":
            if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
                raise CongvuError(_("[eoffice] accepted_types must be a list of file "
                                    "extensions."))
            values[key] = tuple(v.strip().lower().lstrip(".") for v in value)
        elif key in ("summary_min_words", "max_file_mb"):
            if not isinstance(value, int) or isinstance(value, bool) or value < 1:
                raise CongvuError(_("[eoffice] %(key)s must be a positive whole number.") % {
                    "key": key})
            values[key] = value
        elif key in ("incoming_pdf_only", "mail_notices", "escalate_assignments"):
            if not isinstance(value, bool):
                raise CongvuError(_("[eoffice] %(key)s must be true or false.") % {"key": key})
            values[key] = value
        else:
            values[key] = str(value)
    return EofficeParams(**values)


def deployment_params(profile: Profile) -> EofficeParams:
    """The deployment's parameters (``[eoffice]`` of ``$CONGVU_HOME/congvu.toml``)."""
    from congvu import deployment

    return params_for(profile, deployment.read_config().get("eoffice", {}))
