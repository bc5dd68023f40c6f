"""Sign-in throttling per client IP and per account (issue 5). This slows guessing;
NB-7.2a's suspension after consecutive failures is the account's own count. Failures
live in the database (``SignInFailure``) so that every server process of ``congvu serve
--workers N`` applies the same limits."""

from __future__ import annotations

import time
from dataclasses import dataclass

from django.db.models import Q

from congvu.sso.models import SignInFailure

#: (failures allowed, window in seconds)
PER_IP = (30, 600)
PER_ACCOUNT = (5, 300)
_LONGEST = max(PER_IP[1], PER_ACCOUNT[1])


def _limits(ip: str, address: str) -> list[tuple[str, str, tuple[int, int]]]:
    pairs = [(SignInFailure.Kind.IP, ip, PER_IP),
             (SignInFailure.Kind.ACCOUNT, address.lower(), PER_ACCOUNT)]
    return [(str(kind), value, limits) for kind, value, limits in pairs if value]


@dataclass(frozen=True)
class Check:
    seconds: int  # 0: a sign-in may be tried now
    account_failures: int  # recent failures counted for the account


def check(ip: str, address: str) -> Check:
    """How long to wait before a sign-in, and the account's recent failures; one query
    for both limits (the sign-in page runs this on every POST)."""
    now = time.time()
    limits = _limits(ip, address)
    if not limits:
        return Check(0, 0)
    recent = Q()
    for kind, value, (_limit, window) in limits:
        recent |= Q(kind=kind, key=value, at__gt=now - window)
    times: dict[str, list[float]] = {}
    for kind, at in SignInFailure.objects.filter(recent).values_list("kind", "at"):
        times.setdefault(kind, []).append(at)
    waits = [0.0]
    for kind, _value, (limit, window) in limits:
        mine = sorted(times.get(kind, []), reverse=True)
        if len(mine) >= limit:
            waits.append(mine[limit - 1] + window - now)  # when the oldest counted ages out
    return Check(int(max(waits) + 0.999), len(times.get(SignInFailure.Kind.ACCOUNT, [])))


def wait_seconds(ip: str, address: str) -> int:
    """0 if a sign-in may be tried now, else how long to wait."""
    return check(ip, address).seconds


def note_failure(ip: str, address: str) -> None:
    now = time.time()
    SignInFailure.objects.bulk_create(
        [SignInFailure(kind=kind, key=value, at=now) for kind, value, _ in _limits(ip, address)])


def clear_account(address: str) -> None:
    SignInFailure.objects.filter(kind=SignInFailure.Kind.ACCOUNT, key=address.lower()).delete()


def forget_old(now: float | None = None) -> int:
    """Drop failures older than every window (the tasks worker calls this)."""
    cutoff = (now if now is not None else time.time()) - _LONGEST
    deleted, _ = SignInFailure.objects.filter(at__lt=cutoff).delete()
    return deleted
