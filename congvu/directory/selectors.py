"""Reading the directory."""

from __future__ import annotations

from collections.abc import Iterable

from django.db.models import QuerySet
from django.utils.translation import gettext as _

from congvu.accounts.naming import AgencyNode
from congvu.directory.models import Agency
from congvu.errors import CongvuError, NotFound


def agency_by_ref(ref: str) -> Agency:
    """An agency by its account name (``sonv_vp``) or, when unique, its abbreviation."""
    key = (ref or "").strip().lower()
    if not key:
        raise CongvuError(_("An agency abbreviation is required."))
    agency = Agency.objects.select_related("parent").filter(account_name=key).first()
    if agency:
        return agency
    matches = list(Agency.objects.select_related("parent").filter(abbr=key)[:6])
    if len(matches) == 1:
        return matches[0]
    if matches:
        raise CongvuError(
            _("Agency %(ref)r is ambiguous; use one of: %(names)s.")
            % {"ref": ref, "names": ", ".join(a.account_name for a in matches)}
        )
    raise NotFound(
        _("Unknown agency %(ref)r. Add it with 'congvu org add' or see 'congvu org list'.")
        % {"ref": ref}
    )


def agencies() -> QuerySet[Agency]:
    return Agency.objects.select_related("parent").order_by("account_name")


def node_of(agency: Agency) -> AgencyNode:
    """The naming module's view of an agency and its ancestors."""
    parent = node_of(agency.parent) if agency.parent_id and agency.parent else None
    return AgencyNode(
        abbr=agency.abbr, kind=agency.kind, account_name=agency.account_name, parent=parent
    )


def tree_rows() -> list[tuple[int, Agency]]:
    """(depth, agency) in tree order, for ``org list``."""
    items = list(agencies())
    children: dict[int | None, list[Agency]] = {}
    for a in items:
        children.setdefault(a.parent_id, []).append(a)
    out: list[tuple[int, Agency]] = []

    def walk(parent: int | None, depth: int) -> None:
        for a in sorted(children.get(parent, []), key=lambda x: x.account_name):
            out.append((depth, a))
            walk(a.pk, depth + 1)

    walk(None, 0)
    return out


def agency_subtree_ids(root_ids: Iterable[int]) -> set[int]:
    """The agencies ``root_ids`` and every unit and department below them."""
    ids = set(root_ids)
    frontier = list(ids)
    while frontier:
        frontier = [pk for pk in Agency.objects.filter(parent_id__in=frontier)
                    .values_list("id", flat=True) if pk not in ids]
        ids.update(frontier)
    return ids
