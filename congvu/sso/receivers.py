"""Single sign-out when an account's access is revoked (QN-3.3): suspended, locked,
deleted, or its password changed or reset. Runs in the sender's transaction."""

from __future__ import annotations

import datetime as dt
from typing import Any

from django.dispatch import receiver

from congvu.accounts.signals import access_revoked
from congvu.actors import Actor
from congvu.sso.actions import End, do_end_account_sessions

SSO = Actor(kind="system", label="system:sso")


@receiver(access_revoked)
def _end_sessions(sender: Any, *, account_ids: list[int], reason: str, now: dt.datetime,
                  keep_sid: str = "", **_: Any) -> None:
    do_end_account_sessions(account_ids=account_ids, now=now, actor=SSO, keep_sid=keep_sid,
                            reason=End.PASSWORD if reason == "password" else End.ACCOUNT)
