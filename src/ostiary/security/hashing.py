"""Keyed hashing of secrets: the database holds HMAC-SHA256(server secret, value) only."""

from __future__ import annotations

import hashlib
import hmac

from ostiary.security.sealing import Sealer, derive_key


class SecretHasher:
    """Hashes tokens and client secrets with the server's secret key."""

    def __init__(self, key: bytes) -> None:
        if len(key) < 32:
            raise ValueError("the server secret must be at least 32 bytes")
        self._key = key

    def hash(self, value: str) -> str:
        """The hex HMAC-SHA256 of a secret value, used as its lookup key."""
        return hmac.new(self._key, value.encode("utf-8"), hashlib.sha256).hexdigest()

    def sealer(self, purpose: str) -> Sealer:
        """A :class:`~ostiary.security.sealing.Sealer` for one purpose, its key derived from
        the same server secret by HKDF (never the HMAC key itself)."""
        return Sealer(derive_key(self._key, purpose))
