"""Client secrets are 256-bit random strings, not passwords a person chose: a salted
SHA-256 resists guessing as well as Argon2id would, and keeps every token request (one
client authentication each) from costing an Argon2id verification (issue 5: 240
refreshes/s). Account passwords never use this hasher: Argon2id stays first in
``PASSWORD_HASHERS``."""

from __future__ import annotations

import hashlib
import hmac
from typing import Any

from django.contrib.auth.hashers import BasePasswordHasher, mask_hash
from django.utils.crypto import get_random_string


class ClientSecretHasher(BasePasswordHasher):
    algorithm = "congvu_client_sha256"

    def salt(self) -> str:
        return get_random_string(22)

    def encode(self, password: str, salt: str) -> str:
        if not salt or "$" in salt:
            raise ValueError("invalid salt")
        digest = hashlib.sha256(f"{salt}${password}".encode()).hexdigest()
        return f"{self.algorithm}${salt}${digest}"

    def decode(self, encoded: str) -> dict[str, Any]:
        algorithm, salt, digest = encoded.split("$", 2)
        assert algorithm == self.algorithm
        return {"algorithm": algorithm, "hash": digest, "salt": salt}

    def verify(self, password: str, encoded: str) -> bool:
        decoded = self.decode(encoded)
        return hmac.compare_digest(self.encode(password, decoded["salt"]), encoded)

    def safe_summary(self, encoded: str) -> dict[Any, Any]:
        decoded = self.decode(encoded)
        return {"algorithm": decoded["algorithm"], "salt": mask_hash(decoded["salt"]),
                "hash": mask_hash(decoded["hash"])}

    def harden_runtime(self, password: str, encoded: str) -> None:
        return None
