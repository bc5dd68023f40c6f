"""One-time passwords at rest: the file waiting for its one download is sealed (Fernet,
a key derived from the deployment's secret key), so a database backup taken meanwhile
holds no readable password."""

from __future__ import annotations

import base64
import hashlib

from cryptography.fernet import Fernet, InvalidToken
from django.conf import settings
from django.utils.translation import gettext as _

from congvu.errors import CongvuError


def _fernet() -> Fernet:
    digest = hashlib.sha256(f"congvu.imports.passwords:{settings.SECRET_KEY}".encode()).digest()
    return Fernet(base64.urlsafe_b64encode(digest))


def seal(data: bytes) -> bytes:
    return _fernet().encrypt(data)


def unseal(token: bytes) -> bytes:
    try:
        return _fernet().decrypt(token)
    except InvalidToken:
        raise CongvuError(_("The passwords file can no longer be read (the deployment's secret "
                            "key changed); re-issue the passwords with a password reset.")
                          ) from None
