"""Who is acting: an explicit argument to every write (``do_*``), recorded in the audit log.

Least privilege per agency lives here and is checked by the actions themselves, so the
CLI, the web console and the tasks all get the same answer.
"""

from __future__ import annotations

import getpass
import os
from dataclasses import dataclass, field

from django.utils.translation import gettext as _

from congvu.errors import Forbidden


@dataclass(frozen=True)
class Actor:
    """``kind`` is ``operator`` (the province's operator: everything), ``agency-it`` (an
    agency's IT contact: only that agency's subtree), ``system`` (scheduled rules), or
    ``self`` (a holder acting on their own account)."""

    kind: str
    label: str
    agency_ids: frozenset[int] = field(default_factory=frozenset)
    account_id: int | None = None

    def can_manage_agency(self, agency_id: int | None, ancestor_ids: list[int]) -> bool:
        if self.kind in ("operator", "system"):
            return True
        if self.kind == "agency-it":
            return any(a in self.agency_ids for a in ancestor_ids)
        return False

    def require_agency(self, agency_id: int | None, ancestor_ids: list[int]) -> None:
        if not self.can_manage_agency(agency_id, ancestor_ids):
            raise Forbidden(_("%(actor)s may not manage this agency's accounts.") % {
                "actor": self.label})


SYSTEM = Actor(kind="system", label="system:lifecycle")


def cli_operator() -> Actor:
    """The operator at the server's command line (``CONGVU_ACTOR`` names them)."""
    name = os.environ.get("CONGVU_ACTOR") or f"cli:{_os_user()}"
    return Actor(kind="operator", label=name)


def _os_user() -> str:
    try:
        return getpass.getuser()
    except (KeyError, OSError):
        return str(os.getuid())
