"""Reading imports: operators only (an import writes accounts of any agency)."""

from __future__ import annotations

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from congvu.actors import Actor
from congvu.errors import NotFound
from congvu.imports.models import ImportRow, PersonImport

#: Which rows the preview shows: every row (errors first), or one kind.
SHOWS = ("all", "errors", "notes", "valid")


def imports_for(actor: Actor) -> QuerySet[PersonImport]:
    actor.require_operator()
    return PersonImport.objects.defer("passwords_sealed").order_by("-id")


def import_for(actor: Actor, batch_id: int) -> PersonImport:
    actor.require_operator()
    batch = PersonImport.objects.defer("passwords_sealed").select_related(
        "check_job", "write_job").filter(pk=batch_id).first()
    if batch is None:
        raise NotFound(_("No such import."))
    return batch


def import_rows(actor: Actor, batch: PersonImport, show: str = "all") -> QuerySet[ImportRow]:
    """The checked rows: errors first, then in file order."""
    actor.require_operator()
    qs = ImportRow.objects.filter(batch=batch)
    if show == "errors":
        qs = qs.filter(has_errors=True)
    elif show == "notes":
        qs = qs.filter(has_errors=False, has_notes=True)
    elif show == "valid":
        qs = qs.filter(has_errors=False)
    return qs.order_by("-has_errors", "line")
