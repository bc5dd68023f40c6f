"""Argon2id password hashing shared by Django and Dovecot (NB-8.2, QN-3.3 SSO).

Django stores ``argon2$argon2id$v=19$m=…,t=…,p=…$salt$hash``; the part after the
``argon2`` prefix is a standard PHC string that Dovecot verifies as ``{ARGON2ID}…``
(libsodium), so one password works for the web console, SSO, IMAP and SMTP.
"""

from __future__ import annotations

from typing import Any

import argon2
from django.conf import settings
from django.contrib.auth.hashers import Argon2PasswordHasher
from django.core.exceptions import ImproperlyConfigured

# OWASP Password Storage Cheat Sheet minimum for Argon2id: 19 MiB, 2 passes, 1 lane.
DEFAULT_MEMORY_COST = 19456  # KiB
DEFAULT_TIME_COST = 2
DEFAULT_PARALLELISM = 1

DJANGO_PREFIX = "argon2"
DOVECOT_SCHEME = "{ARGON2ID}"


def _cost(name: str, default: int) -> int:
    config: dict[str, Any] = getattr(settings, "ARGON2", None) or {}
    value: object = config.get(name, default)
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ImproperlyConfigured(f"settings.ARGON2[{name!r}] must be a positive integer")
    return value


class Argon2idHasher(Argon2PasswordHasher):
    """Django's Argon2 hasher (Argon2id) with its cost taken from ``settings.ARGON2``.

    The cost is read at every call, so changing ``ARGON2`` (or ``override_settings``)
    takes effect at once: :meth:`must_update` then reports stored hashes made with other
    parameters, and Django re-hashes them at the holder's next successful sign-in.
    """

    algorithm = DJANGO_PREFIX  # keep Django's stored format: argon2$argon2id$…

    @property
    def memory_cost(self) -> int:
        """Memory in KiB (``ARGON2["memory_cost"]``, default 19456)."""
        return _cost("memory_cost", DEFAULT_MEMORY_COST)

    @memory_cost.setter
    def memory_cost(self, value: int) -> None:
        raise AttributeError("the Argon2 cost comes from settings.ARGON2")

    @property
    def time_cost(self) -> int:
        """Passes over memory (``ARGON2["time_cost"]``, default 2)."""
        return _cost("time_cost", DEFAULT_TIME_COST)

    @time_cost.setter
    def time_cost(self, value: int) -> None:
        raise AttributeError("the Argon2 cost comes from settings.ARGON2")

    @property
    def parallelism(self) -> int:
        """Lanes (``ARGON2["parallelism"]``, default 1)."""
        return _cost("parallelism", DEFAULT_PARALLELISM)

    @parallelism.setter
    def parallelism(self, value: int) -> None:
        raise AttributeError("the Argon2 cost comes from settings.ARGON2")

    def params(self) -> argon2.Parameters:
        """Argon2id, v=19, with the cost from settings (Django's own layout).

        Django's ``encode`` and ``must_update`` both call this, so a changed cost is
        used for new hashes and flags old ones at once.
        """
        memory_cost, time_cost, parallelism = self.memory_cost, self.time_cost, self.parallelism
        if memory_cost < 8 * parallelism:
            raise ImproperlyConfigured(
                "settings.ARGON2['memory_cost'] must be at least 8 KiB per lane "
                f"({8 * parallelism} for parallelism {parallelism})"
            )
        return argon2.Parameters(
            type=argon2.Type.ID,
            version=argon2.low_level.ARGON2_VERSION,
            # salt_len is informational: Django passes its own salt.
            salt_len=argon2.DEFAULT_RANDOM_SALT_LENGTH,
            hash_len=argon2.DEFAULT_HASH_LENGTH,
            time_cost=time_cost,
            memory_cost=memory_cost,
            parallelism=parallelism,
        )


def dovecot_hash(encoded: str) -> str:
    """Dovecot's form of a stored Django Argon2id hash: ``{ARGON2ID}$argon2id$v=19$…``.

    Raises :class:`ValueError` for anything else (another hasher, Argon2i/Argon2d, an
    unusable password, a malformed string): Dovecot must never receive a hash it would
    read with the wrong scheme.
    """
    prefix = DJANGO_PREFIX + "$argon2id$"
    if not isinstance(encoded, str) or not encoded.startswith(prefix):
        raise ValueError("not a Django Argon2id password hash")
    phc = encoded[len(DJANGO_PREFIX):]
    try:
        params = argon2.extract_parameters(phc)
    except (argon2.exceptions.InvalidHashError, ValueError) as exc:
        raise ValueError("malformed Argon2id password hash") from exc
    parts = phc.split("$")
    # "", "argon2id", "v=19", "m=…,t=…,p=…", salt, hash
    if params.type is not argon2.Type.ID or len(parts) != 6 or not parts[4] or not parts[5]:
        raise ValueError("malformed Argon2id password hash")
    return DOVECOT_SCHEME + phc
