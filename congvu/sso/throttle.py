"""Sign-in throttling per client IP and per account (issue 5), in the cache. This slows
guessing; NB-7.2a's suspension after consecutive failures is the account's own count."""

from __future__ import annotations

import time

from django.core.cache import cache

#: (failures allowed, window in seconds)
PER_IP = (30, 600)
PER_ACCOUNT = (5, 300)


def _key(kind: str, value: str) -> str:
    return f"sso-throttle:{kind}:{value.lower()}"


def _recent(key: str, window: int, now: float) -> list[float]:
    return [t for t in cache.get(key, []) if now - t < window]


def wait_seconds(ip: str, address: str) -> int:
    """0 if a sign-in may be tried now, else how long to wait."""
    now = time.time()
    waits = [0.0]
    for kind, value, (limit, window) in (("ip", ip, PER_IP), ("acct", address, PER_ACCOUNT)):
        if not value:
            continue
        times = _recent(_key(kind, value), window, now)
        if len(times) >= limit:
            waits.append(times[-limit] + window - now)
    return int(max(waits) + 0.999)


def note_failure(ip: str, address: str) -> None:
    now = time.time()
    for kind, value, (limit, window) in (("ip", ip, PER_IP), ("acct", address, PER_ACCOUNT)):
        if value:
            key = _key(kind, value)
            cache.set(key, [*_recent(key, window, now), now][-limit:], window)


def clear_account(address: str) -> None:
    cache.delete(_key("acct", address))
