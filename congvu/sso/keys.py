"""Signing keys for ID and logout tokens, kept in the database so a rotation by
``congvu sso rotate-keys`` reaches every serving process within seconds.

django-oauth-toolkit reads ``OIDC_RSA_PRIVATE_KEY`` (the signing key) and
``OIDC_RSA_PRIVATE_KEYS_INACTIVE`` (still published in the JWKS) from its settings
object; :func:`install` sets both from the database before a view signs or publishes.
"""

from __future__ import annotations

import base64
import datetime as dt
import json
import time
from typing import Any

from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import padding, rsa
from django.conf import settings
from django.db import transaction
from jwcrypto import jwk
from oauth2_provider.settings import oauth2_settings
from oauth2_provider.utils import jwk_from_pem

from congvu.sso.models import SigningKey

#: How long a process trusts its copy of the key list.
CACHE_SECONDS = 5.0
_cache: dict[str, object] = {"at": 0.0, "version": None}


def _new_pem() -> str:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    return key.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                             serialization.NoEncryption()).decode()


def kid_of(pem: str) -> str:
    return str(jwk.JWK.from_pem(pem.encode()).thumbprint())


def published(now: dt.datetime) -> list[SigningKey]:
    """The signing key first, then retired keys whose tokens may still be presented."""
    provider: Any = settings.OAUTH2_PROVIDER
    keep = dt.timedelta(seconds=max(int(provider["ID_TOKEN_EXPIRE_SECONDS"]),
                                    int(settings.SSO_SESSION_SECONDS)))
    rows = list(SigningKey.objects.filter(retired_at__isnull=True)[:1])
    rows += list(SigningKey.objects.filter(retired_at__gt=now - keep))
    return rows


def ensure_key(now: dt.datetime) -> SigningKey:
    """The current signing key, made on first use."""
    key = SigningKey.objects.filter(retired_at__isnull=True).first()
    if key is not None:
        return key
    with transaction.atomic():
        key = SigningKey.objects.select_for_update().filter(retired_at__isnull=True).first()
        if key is None:
            pem = _new_pem()
            key = SigningKey.objects.create(kid=kid_of(pem), private_pem=pem, created_at=now)
    return key


def rotate(now: dt.datetime) -> tuple[SigningKey, list[str]]:
    """A new signing key; the previous ones are retired (still published for a while)."""
    with transaction.atomic():
        retired = list(SigningKey.objects.select_for_update()
                       .filter(retired_at__isnull=True).values_list("kid", flat=True))
        SigningKey.objects.filter(retired_at__isnull=True).update(retired_at=now)
        pem = _new_pem()
        key = SigningKey.objects.create(kid=kid_of(pem), private_pem=pem, created_at=now)
    forget()
    return key, retired


def forget() -> None:
    _cache["at"] = 0.0


def install(now: dt.datetime) -> None:
    """Put the database's keys into django-oauth-toolkit's settings (cached briefly)."""
    if time.monotonic() - float(_cache["at"]) < CACHE_SECONDS:  # type: ignore[arg-type]
        return
    ensure_key(now)
    rows = published(now)
    version = tuple(r.kid for r in rows)
    if version != _cache["version"]:
        # The settings object caches attributes; assigning replaces the cached value.
        oauth2_settings.OIDC_RSA_PRIVATE_KEY = rows[0].private_pem
        oauth2_settings.OIDC_RSA_PRIVATE_KEYS_INACTIVE = [r.private_pem for r in rows[1:]]
        _cache["version"] = version
    _cache["at"] = time.monotonic()


def signing_jwk(now: dt.datetime) -> jwk.JWK:
    """The signing key as a JWK. Parsing a PEM RSA key costs milliseconds (the private
    key is checked), so the parsed key is django-oauth-toolkit's cached one, which is
    also what signs ID tokens; a rotation changes the PEM and so the cache entry."""
    install(now)
    return jwk_from_pem(str(oauth2_settings.OIDC_RSA_PRIVATE_KEY))


_signers: dict[str, tuple[rsa.RSAPrivateKey, str]] = {}


def signer() -> tuple[rsa.RSAPrivateKey, str]:
    """The current signing key (as installed by :func:`install`) and its ``kid``, parsed
    once per PEM: django-oauth-toolkit's cached JWK, whose thumbprint is the kid."""
    pem = str(oauth2_settings.OIDC_RSA_PRIVATE_KEY)
    found = _signers.get(pem)
    if found is None:
        key = jwk_from_pem(pem)
        found = (key.get_op_key("sign"), str(key.thumbprint()))
        _signers.clear()  # keys rotate: keep only the current one
        _signers[pem] = found
    return found


def _b64(data: bytes) -> bytes:
    return base64.urlsafe_b64encode(data).rstrip(b"=")


def sign_rs256(header: dict[str, Any], claims: dict[str, Any]) -> str:
    """A compact RS256 JWS of ``claims`` with the current signing key: byte for byte what
    jwcrypto's ``JWT(header=json.dumps(header), claims=json.dumps(claims))`` signs
    (RSASSA-PKCS1-v1_5 is deterministic), without its object work per token (0.43 ms
    with jwcrypto, 0.25 ms here, nearly all of it the RSA operation)."""
    key, _kid = signer()
    signing_input = (_b64(json.dumps(header, default=str).encode()) + b"."
                     + _b64(json.dumps(claims, default=str).encode()))
    signature = key.sign(signing_input, padding.PKCS1v15(), hashes.SHA256())
    return (signing_input + b"." + _b64(signature)).decode("ascii")
