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
    agency's IT contact: only that agency's subtree), ``clerk`` (an agency's clerk, văn
    thư: files and follows requests for that agency's subtree, manages no account
    directly), ``system`` (scheduled rules), or ``self`` (a holder acting on their own
    account).

    ``agency_ids`` are the agencies whose subtrees an ``agency-it`` contact manages or a
    ``clerk`` files requests for; ``request_agency_ids`` are further agencies an IT
    contact is also the clerk of (requests only, no account management).
    """

    kind: str
    label: str
    agency_ids: frozenset[int] = field(default_factory=frozenset)
    account_id: int | None = None
    request_agency_ids: frozenset[int] = field(default_factory=frozenset)

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

    @property
    def is_operator(self) -> bool:
        return self.kind == "operator"

    @property
    def request_scope(self) -> frozenset[int]:
        """The agencies (with their subtrees) whose requests this actor files and sees."""
        if self.kind in ("agency-it", "clerk"):
            return self.agency_ids | self.request_agency_ids
        return frozenset()

    def can_request_for(self, ancestor_ids: list[int]) -> bool:
        """May file, see and cancel requests of the agency whose ancestors-or-self are
        ``ancestor_ids``: operators for every agency, an IT contact or a clerk for their
        own agencies' subtrees, nobody else."""
        if self.kind == "operator":
            return True
        return any(a in self.request_scope for a in ancestor_ids)

    def require_request_agency(self, ancestor_ids: list[int]) -> None:
        if not self.can_request_for(ancestor_ids):
            raise Forbidden(_("%(actor)s may not file or see requests of this agency: only "
                              "those of their own agency and its units.") % {
                "actor": self.label})

    def require_operator(self) -> None:
        if self.kind != "operator":
            raise Forbidden(_("Only an operator may do this (%(actor)s is not one).") % {
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
