"""The import's two jobs, run by the tasks worker: the check (preview) and the write.
Each runs in the language of the operator who queued it, so its messages are theirs."""

from __future__ import annotations

from typing import Any

from django.conf import settings
from django.utils import translation

from congvu import clock, deployment
from congvu.actors import Actor
from congvu.imports.actions import (
    CHECK_JOB,
    WRITE_JOB,
    do_check_import,
    do_write_import,
    preview_file,
)
from congvu.imports.models import PersonImport
from congvu.jobs.registry import Outcome, Progress, handler

XLSX = "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"


def _language(params: dict[str, Any]) -> str:
    wanted = str(params.get("language") or "")
    return wanted if wanted in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE


@handler(CHECK_JOB)
def check(actor: Actor, params: dict[str, Any], source: bytes, progress: Progress) -> Outcome:
    with translation.override(_language(params)):
        batch_id = int(params["import_id"])
        summary = do_check_import(actor=actor, profile=deployment.deployment_profile(),
                                  batch_id=batch_id, data=source, now=clock.now(),
                                  progress=progress)
        batch = PersonImport.objects.get(pk=batch_id)
        return Outcome(summary={"import": batch_id, **summary}, file=preview_file(batch),
                       file_name=f"kiem-tra-nhap-{batch_id}.xlsx", file_type=XLSX)


@handler(WRITE_JOB)
def write(actor: Actor, params: dict[str, Any], source: bytes, progress: Progress) -> Outcome:
    """No file: the passwords are kept on the import, sealed, for one download."""
    with translation.override(_language(params)):
        batch_id = int(params["import_id"])
        result = do_write_import(actor=actor, profile=deployment.deployment_profile(),
                                 batch_id=batch_id, now=clock.now(), progress=progress)
        return Outcome(summary={"import": batch_id, "created": result.created,
                                "left_out": result.left_out})
