"""``congvu eoffice role``: the operator grants, lists and revokes eOffice roles from the
command line (GL-12..15), with the same rules and audit as the console's settings page."""

from __future__ import annotations

import pytest

from congvu.audit.models import AuditEvent
from congvu.eoffice.access import powers_for
from congvu.eoffice.models import OfficeRole, OfficeRoleGrant
from tests.eoffice.conftest import NOW

pytestmark = pytest.mark.django_db


@pytest.fixture
def gl(office, use_profile):
    use_profile("gia-lai")
    return office


def test_gl12_grant_list_and_revoke_an_eoffice_role(gl, cli) -> None:
    office = gl
    who = office.vp_spec.account.address
    r = cli("eoffice", "role", "grant", who, "department-head", "--agency", "sotttt",
            "--department", "cntt", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json() == {"address": who, "role": "department_head", "agency": "sotttt",
                        "department": office.cntt.account_name}
    seat = powers_for(office.vp_spec.actor, NOW).seat([OfficeRole.DEPARTMENT_HEAD])
    assert seat is not None and seat.department_id == office.cntt.pk
    listed = cli("eoffice", "role", "list", "--agency", "sotttt", "--json").json()
    mine = {"address": who, "role": "department_head", "department": office.cntt.account_name}
    assert mine.items() <= next(
        r for r in listed if r["address"] == who and r["role"] == "department_head").items()
    assert AuditEvent.objects.filter(action="eoffice.role_grant", target=who).exists()
    r = cli("eoffice", "role", "revoke", who, "department_head", "--agency", "sotttt")
    assert r.exit_code == 0 and "không còn" in r.stdout
    assert not OfficeRoleGrant.objects.filter(account=office.vp_spec.account,
                                              role="department_head").exists()
    assert AuditEvent.objects.filter(action="eoffice.role_revoke", target=who).exists()


def test_gl12_bad_roles_departments_and_revocations_are_named(gl, cli) -> None:
    office = gl
    who = office.vp_spec.account.address
    r = cli("eoffice", "role", "grant", who, "boss", "--agency", "sotttt")
    assert r.exit_code != 0 and "boss" in r.stderr
    r = cli("eoffice", "role", "grant", who, "department_head", "--agency", "sotttt")
    assert r.exit_code != 0 and "phòng" in r.stderr.lower()
    r = cli("eoffice", "role", "grant", who, "specialist", "--agency", "stc",
            "--department", "cntt")
    assert r.exit_code != 0 and "cntt" in r.stderr
    r = cli("eoffice", "role", "revoke", who, "director", "--agency", "sotttt")
    assert r.exit_code != 0 and who in r.stderr
    assert not OfficeRoleGrant.objects.filter(account=office.vp_spec.account,
                                              role__in=["boss", "department_head",
                                                        "director"]).exists()
