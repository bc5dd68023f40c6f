"""Nobody suspends, locks or deletes their own account, and the province's last active
operator cannot be taken out of service (then nobody could grant roles or restore
accounts); another operator can, and the scheduled rules still apply to everyone."""

from __future__ import annotations

import pytest

from congvu.accounts.actions import do_create_operator, do_delete, do_leave, do_suspend
from congvu.accounts.models import Account, AccountState
from congvu.accounts.roles import actor_for
from congvu.audit.models import AuditEvent
from congvu.errors import Forbidden
from tests.conftest import at, profile
from tests.factories import OPERATOR

pytestmark = pytest.mark.django_db
NOW = at("2026-03-02T09:00")


def _operator(local: str) -> Account:
    acct, _otp = do_create_operator(actor=OPERATOR, profile=profile("ninh-binh"),
                                    local_part=local, now=NOW)
    return acct


def _others_out(keep: Account) -> None:
    """Only ``keep`` stays an active operator (``congvu init``-like state)."""
    Account.objects.filter(is_operator=True).exclude(pk=keep.pk).update(is_operator=False)


@pytest.mark.parametrize("change", ["suspend", "leave", "delete"])
def test_an_operator_cannot_take_their_own_account_out_of_service(change: str) -> None:
    p = profile("ninh-binh")
    me, other = _operator("quantri1"), _operator("quantri2")
    actor = actor_for(me)
    before = AuditEvent.objects.count()
    with pytest.raises(Forbidden, match="quantri1"):
        if change == "suspend":
            do_suspend(actor=actor, profile=p, account=me, now=NOW, rule="NB-7.2c", reason="")
        elif change == "leave":
            do_leave(actor=actor, profile=p, account=me, effective=NOW.date(), now=NOW)
        else:
            do_delete(actor=actor, profile=p, account=me, now=NOW, rule="", reason="x")
    me.refresh_from_db()
    assert me.state == AccountState.ACTIVE and me.leave_effective_at is None
    assert AuditEvent.objects.count() == before
    # Another operator may (one operator still remains).
    do_suspend(actor=actor_for(other), profile=p, account=me, now=NOW, rule="NB-7.2c",
               reason="")
    me.refresh_from_db()
    assert me.state == AccountState.SUSPENDED


def test_the_last_active_operator_cannot_be_suspended_even_from_the_command_line() -> None:
    p = profile("ninh-binh")
    last = _operator("quantri1")
    _others_out(last)
    with pytest.raises(Forbidden, match="quantri1@"):
        do_suspend(actor=OPERATOR, profile=p, account=last, now=NOW, rule="NB-7.2c", reason="")
    with pytest.raises(Forbidden, match="quantri1@"):
        do_delete(actor=OPERATOR, profile=p, account=last, now=NOW, rule="", reason="x")
    last.refresh_from_db()
    assert last.state == AccountState.ACTIVE
    # With a second operator, the first can go.
    _operator("quantri2")
    do_suspend(actor=OPERATOR, profile=p, account=last, now=NOW, rule="NB-7.2c", reason="")
    last.refresh_from_db()
    assert last.state == AccountState.SUSPENDED
