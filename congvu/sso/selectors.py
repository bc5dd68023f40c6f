"""Reads of the SSO provider."""

from __future__ import annotations

import datetime as dt
from typing import Any

from oauth2_provider.models import Application

from congvu.accounts.models import Account
from congvu.sso.actions import client_json
from congvu.sso.models import LogoutDelivery, SsoSession


def clients() -> list[dict[str, object]]:
    return [client_json(app) for app in Application.objects.order_by("name")]


def sessions_of(account: Account, now: dt.datetime) -> list[dict[str, Any]]:
    """Where a person is still signed in: open sessions and the clients in each."""
    rows = (SsoSession.objects.filter(account=account, ended_at__isnull=True,
                                      expires_at__gt=now)
            .prefetch_related("clients__application").order_by("started_at"))
    return [{
        "sid": s.sid,
        "started_at": s.started_at,
        "expires_at": s.expires_at,
        "remote_addr": s.remote_addr,
        "second_factor": s.second_factor,
        "clients": [{"client_id": c.application.client_id, "name": c.application.name,
                     "last_at": c.last_at} for c in s.clients.all()],
    } for s in rows]


def pending_logouts() -> list[dict[str, Any]]:
    rows = (LogoutDelivery.objects.filter(delivered_at__isnull=True)
            .select_related("session__account").order_by("id"))
    return [{"client": d.client_name, "uri": d.uri, "address": d.session.account.address,
             "attempts": d.attempts, "next_attempt_at": d.next_attempt_at,
             "given_up": d.given_up_at is not None, "last_error": d.last_error}
            for d in rows]
