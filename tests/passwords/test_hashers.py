"""Argon2id hashes shared by Django and Dovecot (PASSWORD_HASHERS, settings.ARGON2)."""

from __future__ import annotations

import os
import shutil
import subprocess

import argon2
import pytest
from django.conf import settings
from django.contrib.auth import hashers as django_hashers
from django.core.exceptions import ImproperlyConfigured
from django.test import override_settings

from congvu.accounts.hashers import Argon2idHasher, dovecot_hash

PASSWORD = "MatKhau$789"
CHEAP = {"memory_cost": 8192, "time_cost": 1, "parallelism": 2}


def _params_text(cost: dict[str, int]) -> str:
    return f"m={cost['memory_cost']},t={cost['time_cost']},p={cost['parallelism']}"


def test_settings_select_the_congvu_hasher() -> None:
    """Account passwords: Argon2id first (the default for every new hash); the only other
    hasher is the one for random client secrets of SSO applications."""
    assert settings.PASSWORD_HASHERS == ["congvu.accounts.hashers.Argon2idHasher",
                                         "congvu.sso.hashers.ClientSecretHasher"]
    assert isinstance(django_hashers.get_hasher("default"), Argon2idHasher)


def test_default_cost_is_owasp_minimum() -> None:
    hasher = Argon2idHasher()
    with override_settings(ARGON2={}):
        assert (hasher.memory_cost, hasher.time_cost, hasher.parallelism) == (19456, 2, 1)


def test_django_stored_format_with_configured_cost() -> None:
    encoded = django_hashers.make_password(PASSWORD)
    assert encoded.startswith(f"argon2$argon2id$v=19${_params_text(settings.ARGON2)}$")
    assert django_hashers.check_password(PASSWORD, encoded)
    assert not django_hashers.check_password("MatKhau$788", encoded)


def test_configured_cost_visible_in_hash() -> None:
    with override_settings(ARGON2=CHEAP):
        encoded = django_hashers.make_password(PASSWORD)
        assert f"$argon2id$v=19${_params_text(CHEAP)}$" in encoded
        assert django_hashers.check_password(PASSWORD, encoded)


def test_dovecot_hash_verifies_with_argon2_cffi() -> None:
    encoded = django_hashers.make_password(PASSWORD)
    dovecot = dovecot_hash(encoded)
    assert dovecot.startswith(f"{{ARGON2ID}}$argon2id$v=19${_params_text(settings.ARGON2)}$")
    assert dovecot == "{ARGON2ID}" + encoded[len("argon2"):]
    phc = dovecot[len("{ARGON2ID}"):]
    assert argon2.PasswordHasher().verify(phc, PASSWORD)
    with pytest.raises(argon2.exceptions.VerifyMismatchError):
        argon2.PasswordHasher().verify(phc, "MatKhau$788")


def test_must_update_when_configured_cost_changes() -> None:
    hasher = Argon2idHasher()
    with override_settings(ARGON2=CHEAP):
        encoded = hasher.encode(PASSWORD, hasher.salt())
        assert not hasher.must_update(encoded)
    for change in ({"time_cost": 2}, {"memory_cost": 16384}, {"parallelism": 1}):
        with override_settings(ARGON2={**CHEAP, **change}):
            assert hasher.must_update(encoded), change


def test_check_password_rehashes_to_new_cost() -> None:
    with override_settings(ARGON2=CHEAP):
        old = django_hashers.make_password(PASSWORD)
    new_cost = {**CHEAP, "time_cost": 3}
    stored: list[str] = []
    with override_settings(ARGON2=new_cost):
        assert django_hashers.check_password(PASSWORD, old, setter=lambda raw: stored.append(
            django_hashers.make_password(raw)))
    assert len(stored) == 1
    assert f"${_params_text(new_cost)}$" in stored[0]
    assert django_hashers.check_password(PASSWORD, stored[0])


def test_argon2i_hash_must_be_updated() -> None:
    hasher = Argon2idHasher()
    raw = argon2.low_level.hash_secret(
        PASSWORD.encode(), hasher.salt().encode(), time_cost=2, memory_cost=19456,
        parallelism=1, hash_len=32, type=argon2.low_level.Type.I,
    ).decode()
    encoded = "argon2" + raw
    assert hasher.verify(PASSWORD, encoded)
    assert hasher.must_update(encoded)
    with pytest.raises(ValueError, match="Argon2id"):
        dovecot_hash(encoded)


@pytest.mark.parametrize(
    "encoded",
    [
        "",
        "!unusablepassword",
        "pbkdf2_sha256$1000000$salt$hash",
        "argon2$argon2d$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
        "$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA",
        "argon2$argon2id$garbage",
        "argon2$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$",
        "argon2$argon2id$v=19$m=19456,t=2,p=1$c2FsdHNhbHQ$aGFzaA$extra",
    ],
)
def test_dovecot_hash_rejects_anything_but_argon2id(encoded: str) -> None:
    with pytest.raises(ValueError):
        dovecot_hash(encoded)


@pytest.mark.parametrize(
    "cost",
    [
        {"memory_cost": 19456, "time_cost": 0, "parallelism": 1},
        {"memory_cost": 19456, "time_cost": 2, "parallelism": 0},
        {"memory_cost": 15, "time_cost": 2, "parallelism": 2},
        {"memory_cost": "19456", "time_cost": 2, "parallelism": 1},
    ],
)
def test_invalid_cost_is_a_configuration_error(cost: dict[str, object]) -> None:
    with override_settings(ARGON2=cost), pytest.raises(ImproperlyConfigured):
        Argon2idHasher().encode(PASSWORD, Argon2idHasher().salt())


def test_cost_cannot_be_set_on_the_hasher() -> None:
    with pytest.raises(AttributeError):
        Argon2idHasher().time_cost = 1


DOVEADM = shutil.which("doveadm") or (
    "/usr/bin/doveadm" if os.path.exists("/usr/bin/doveadm") else None
)


@pytest.mark.skipif(DOVEADM is None, reason="doveadm (Dovecot) is not installed on this machine")
@pytest.mark.parametrize("cost", [None, CHEAP])
def test_dovecot_verifies_the_hash(cost: dict[str, int] | None) -> None:
    assert DOVEADM is not None
    with override_settings(ARGON2=cost or settings.ARGON2):
        dovecot = dovecot_hash(django_hashers.make_password(PASSWORD))
    ok = subprocess.run([DOVEADM, "pw", "-t", dovecot, "-p", PASSWORD],
                        capture_output=True, text=True, timeout=60, check=False)
    assert ok.returncode == 0, ok.stderr
    assert "(verified)" in ok.stdout
    bad = subprocess.run([DOVEADM, "pw", "-t", dovecot, "-p", "MatKhau$788"],
                         capture_output=True, text=True, timeout=60, check=False)
    assert bad.returncode != 0
