"""Roles (issue 6): granted by operators, mirrored for SSO, turned into Actors."""

from __future__ import annotations

import pytest

from congvu.accounts.actions import do_create_operator, do_reset_password, do_suspend
from congvu.accounts.models import RoleGrant
from congvu.accounts.roles import actor_for, do_grant_role, do_revoke_role
from congvu.accounts.selectors import accounts_for, role_entries, roles_of
from congvu.actors import Actor
from congvu.audit.models import AuditEvent
from congvu.errors import CongvuError, Forbidden
from tests.conftest import at, profile
from tests.factories import OPERATOR, account, agency, contact, grant

pytestmark = pytest.mark.django_db
NOW = at("2026-03-02T09:00")


@pytest.fixture
def qn():
    p = profile("quang-nam")
    agency(p, "sotttt", "Sở Thông tin và Truyền thông")
    agency(p, "vp", "Văn phòng", kind="department", parent="sotttt")
    agency(p, "stc", "Sở Tài chính")
    return p


def test_first_operator_is_an_operator_without_a_grant_row(qn) -> None:
    op, _otp = do_create_operator(actor=OPERATOR, profile=qn, local_part="quantri", now=NOW)
    assert actor_for(op).kind == "operator"
    assert roles_of(op) == ["operator"]
    entries = role_entries(OPERATOR)
    assert [(e.address, e.role, e.granted_by) for e in entries] == [
        ("quantri@quangnam.gov.vn", "operator", None)]


def test_last_operator_cannot_be_revoked(qn) -> None:
    op, _otp = do_create_operator(actor=OPERATOR, profile=qn, local_part="quantri", now=NOW)
    with pytest.raises(Forbidden, match=r"quantri@quangnam\.gov\.vn"):
        do_revoke_role(actor=OPERATOR, profile=qn, address=op.address, role="operator",
                       agency_ref=None, now=NOW)
    op.refresh_from_db()
    assert op.is_operator


def test_last_active_operator_cannot_be_revoked_while_the_other_is_suspended(qn) -> None:
    op, _ = do_create_operator(actor=OPERATOR, profile=qn, local_part="quantri", now=NOW)
    person, _ = account(qn, "sotttt", "Trần Văn An", NOW)
    grant(qn, person.address, "operator")
    do_suspend(actor=OPERATOR, profile=qn, account=person, now=NOW, rule="NB-7.2c", reason="x")
    with pytest.raises(Forbidden):
        do_revoke_role(actor=OPERATOR, profile=qn, address=op.address, role="operator",
                       agency_ref=None, now=NOW)


def test_granting_and_revoking_operator_keeps_is_operator_consistent(qn) -> None:
    do_create_operator(actor=OPERATOR, profile=qn, local_part="quantri", now=NOW)
    person, _ = account(qn, "sotttt", "Trần Văn An", NOW)
    grant(qn, person.address, "operator")
    person.refresh_from_db()
    assert person.is_operator and actor_for(person).kind == "operator"
    assert roles_of(person)[0] == "operator"
    do_revoke_role(actor=OPERATOR, profile=qn, address=person.address, role="operator",
                   agency_ref=None, now=NOW)
    person.refresh_from_db()
    assert not person.is_operator and actor_for(person).kind == "self"
    assert not RoleGrant.objects.filter(account=person).exists()
    actions = list(AuditEvent.objects.filter(target=person.address, action__startswith="role.")
                   .values_list("action", "data"))
    assert actions == [("role.grant", {"role": "operator", "agency": None}),
                       ("role.revoke", {"role": "operator", "agency": None})]


def test_agency_roles_need_an_agency_and_operator_role_none(qn) -> None:
    person, _ = account(qn, "sotttt", "Trần Văn An", NOW)
    with pytest.raises(CongvuError, match="--agency"):
        grant(qn, person.address, "agency-it")
    with pytest.raises(CongvuError):
        grant(qn, person.address, "operator", "sotttt")
    with pytest.raises(CongvuError, match="agency-it"):
        grant(qn, person.address, "admin")
    assert not RoleGrant.objects.exists()


def test_civil_servant_is_implicit_not_granted(qn) -> None:
    person, _ = account(qn, "sotttt", "Trần Văn An", NOW)
    with pytest.raises(CongvuError):
        grant(qn, person.address, "civil-servant")
    assert roles_of(person) == ["civil-servant"]


def test_only_operators_grant_roles(qn) -> None:
    _acct, it = contact(qn, "sotttt", "Trần Văn An")
    other, _ = account(qn, "sotttt", "Lê Thị Bình", NOW)
    for role in ("clerk", "operator"):
        with pytest.raises(Forbidden):
            do_grant_role(actor=it, profile=qn, address=other.address, role=role,
                          agency_ref="sotttt", now=NOW)
    with pytest.raises(Forbidden):
        do_revoke_role(actor=it, profile=qn, address=_acct.address, role="agency-it",
                       agency_ref="sotttt", now=NOW)


def test_an_agency_mailbox_holds_no_role(qn) -> None:
    from congvu.accounts.actions import do_create_agency_mailbox

    box, _ = do_create_agency_mailbox(actor=OPERATOR, profile=qn, agency_ref="sotttt", now=NOW)
    with pytest.raises(CongvuError, match="hộp thư cơ quan"):
        grant(qn, box.address, "clerk", "sotttt")
    assert roles_of(box) == ["agency-mailbox"]


def test_granting_twice_changes_nothing(qn) -> None:
    person, _ = account(qn, "sotttt", "Trần Văn An", NOW)
    grant(qn, person.address, "clerk", "sotttt")
    grant(qn, person.address, "clerk", "sotttt")
    assert RoleGrant.objects.filter(account=person).count() == 1
    assert AuditEvent.objects.filter(action="role.grant").count() == 1


def test_revoking_a_role_not_held_is_an_error(qn) -> None:
    person, _ = account(qn, "sotttt", "Trần Văn An", NOW)
    grant(qn, person.address, "clerk", "sotttt")
    with pytest.raises(CongvuError, match="stc"):
        do_revoke_role(actor=OPERATOR, profile=qn, address=person.address, role="clerk",
                       agency_ref="stc", now=NOW)
    do_revoke_role(actor=OPERATOR, profile=qn, address=person.address, role="clerk",
                   agency_ref="sotttt", now=NOW)
    assert roles_of(person) == ["civil-servant"]


def test_roles_of_keeps_existing_values_then_granted_roles(qn) -> None:
    leader, _ = account(qn, "sotttt", "Trần Văn An", NOW, leader=True)
    grant(qn, leader.address, "clerk", "stc")
    grant(qn, leader.address, "agency-it", "sotttt")
    assert roles_of(leader) == ["civil-servant", "leader", "agency-it", "clerk"]


def test_actor_for_builds_least_privilege_actors(qn) -> None:
    plain, _ = account(qn, "sotttt", "Lê Thị Bình", NOW)
    assert actor_for(plain) == Actor(kind="self", label=f"self:{plain.address}",
                                     account_id=plain.pk)
    clerk_acct, clerk = contact(qn, "sotttt", "Phạm Văn Cường", role="clerk")
    sotttt = clerk_acct.agency
    assert (clerk.kind, clerk.agency_ids) == ("clerk", frozenset({sotttt.pk}))
    it_acct, it = contact(qn, "sotttt", "Trần Văn An")
    assert (it.kind, it.agency_ids, it.request_agency_ids) == (
        "agency-it", frozenset({sotttt.pk}), frozenset())
    grant(qn, it_acct.address, "clerk", "stc")
    both = actor_for(it_acct)
    stc = RoleGrant.objects.get(account=it_acct, role="clerk").agency
    assert both.kind == "agency-it" and both.request_agency_ids == frozenset({stc.pk})
    assert both.can_request_for([stc.pk]) and not both.can_manage_agency(stc.pk, [stc.pk])


def test_a_suspended_holder_keeps_no_powers(qn) -> None:
    it_acct, _ = contact(qn, "sotttt", "Trần Văn An")
    do_suspend(actor=OPERATOR, profile=qn, account=it_acct, now=NOW, rule="NB-7.2c", reason="x")
    it_acct.refresh_from_db()
    assert actor_for(it_acct).kind == "self"


def test_a_clerk_files_requests_but_manages_no_account_directly(qn) -> None:
    _c, clerk = contact(qn, "sotttt", "Phạm Văn Cường", role="clerk")
    colleague, _ = account(qn, "sotttt", "Lê Thị Bình", NOW)
    with pytest.raises(Forbidden):
        do_reset_password(actor=clerk, profile=qn, account=colleague, now=NOW)
    _i, it = contact(qn, "sotttt", "Trần Văn An")
    assert do_reset_password(actor=it, profile=qn, account=colleague, now=NOW)
    foreign, _ = account(qn, "stc", "Đỗ Văn Dũng", NOW)
    with pytest.raises(Forbidden):
        do_reset_password(actor=it, profile=qn, account=foreign, now=NOW)


def test_agency_contacts_see_their_own_agency_accounts_only(qn) -> None:
    _i, it = contact(qn, "sotttt", "Trần Văn An")
    _c, clerk = contact(qn, "sotttt", "Phạm Văn Cường", role="clerk")
    staff, _ = account(qn, "sotttt", "Lê Thị Bình", NOW, department_ref="vp")
    foreign, _ = account(qn, "stc", "Đỗ Văn Dũng", NOW)
    for actor in (it, clerk):
        seen = set(accounts_for(actor).values_list("address", flat=True))
        assert staff.address in seen and foreign.address not in seen
        assert set(accounts_for(actor, agency_ref="vp_sotttt").values_list(
            "address", flat=True)) == {staff.address}
        with pytest.raises(Forbidden):
            accounts_for(actor, agency_ref="stc")
    assert foreign.address in set(accounts_for(OPERATOR).values_list("address", flat=True))
    with pytest.raises(Forbidden):
        accounts_for(Actor(kind="self", label="self:x"))


def test_role_list_is_scoped_for_agency_contacts(qn) -> None:
    do_create_operator(actor=OPERATOR, profile=qn, local_part="quantri", now=NOW)
    _i, it = contact(qn, "sotttt", "Trần Văn An")
    contact(qn, "stc", "Đỗ Văn Dũng", role="clerk")
    assert [e.role for e in role_entries(OPERATOR)] == ["agency-it", "clerk", "operator"]
    assert [(e.address, e.role, e.agency) for e in role_entries(it)] == [
        ("antv@quangnam.gov.vn", "agency-it", "sotttt")]


def test_cli_role_grant_list_revoke(cli, use_profile) -> None:
    p = use_profile("quang-nam")
    agency(p, "sotttt")
    do_create_operator(actor=OPERATOR, profile=p, local_part="quantri", now=NOW)
    account(p, "sotttt", "Trần Văn An", NOW)
    r = cli("role", "grant", "antv", "agency-it", "--json")
    assert r.exit_code == 2 and "--agency" in r.stderr
    r = cli("role", "grant", "antv", "agency-it", "--agency", "sotttt", "--json")
    assert r.exit_code == 0, r.stderr
    assert r.json() == {"address": "antv@quangnam.gov.vn", "role": "agency-it",
                        "agency": "sotttt"}
    rows = cli("role", "list", "--json").json()
    assert [(x["address"], x["role"]) for x in rows] == [
        ("antv@quangnam.gov.vn", "agency-it"), ("quantri@quangnam.gov.vn", "operator")]
    assert cli("role", "list", "antv", "--json").json()[0]["agency"] == "sotttt"
    assert cli("role", "list", "--agency", "sotttt", "--json").json()[0]["role"] == "agency-it"
    r = cli("role", "revoke", "quantri", "operator")
    assert r.exit_code == 2 and "quantri@quangnam.gov.vn" in r.stderr
    r = cli("role", "revoke", "antv", "agency-it", "--agency", "sotttt", "--json")
    assert r.exit_code == 0 and r.json()["revoked"] is True
