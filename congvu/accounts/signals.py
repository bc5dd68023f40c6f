"""Signals other parts listen to. Sent inside the writing transaction, so a listener's
writes (SSO sessions ended, logout notices queued) commit or roll back with it."""

from __future__ import annotations

from django.dispatch import Signal

#: The holder's credentials no longer stand: the account left ``active`` (suspended,
#: locked, deleted) or its password changed or was reset. Arguments: ``account_ids``
#: (list[int]), ``reason`` ("account" or "password"), ``now``, ``keep_sid`` (a session
#: that stays, e.g. the one where the holder changed their own password).
access_revoked = Signal()
