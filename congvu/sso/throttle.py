"""Sign-in throttling per client IP and per account (issue 5). This slows guessing;
NB-7.2a's suspension after consecutive failures is the account's own count. Failures
live in the database (``SignInFailure``) so that every server process of ``congvu serve
--workers N`` applies the same limits."""

from __future__ import annotations

import time

from congvu.sso.models import SignInFailure

#: (failures allowed, window in seconds)
PER_IP = (30, 600)
PER_ACCOUNT = (5, 300)
_LONGEST = max(PER_IP[1], PER_ACCOUNT[1])


def _limits(ip: str, address: str) -> list[tuple[str, str, tuple[int, int]]]:
    pairs = [(SignInFailure.Kind.IP, ip, PER_IP),
             (SignInFailure.Kind.ACCOUNT, address.lower(), PER_ACCOUNT)]
    return [(str(kind), value, limits) for kind, value, limits in pairs if value]


def wait_seconds(ip: str, address: str) -> int:
    """0 if a sign-in may be tried now, else how long to wait."""
    now = time.time()
    waits = [0.0]
    for kind, value, (limit, window) in _limits(ip, address):
        times = list(SignInFailure.objects.filter(kind=kind, key=value, at__gt=now - window)
                     .order_by("-at").values_list("at", flat=True)[:limit])
        if len(times) >= limit:
            waits.append(times[-1] + window - now)  # when the oldest counted one ages out
    return int(max(waits) + 0.999)


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
