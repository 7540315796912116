"""Webhook secrets at rest: sealed with AES-256-GCM under a key derived from the server secret.

A webhook's signing secret must be read back for every delivery, so it cannot be hashed like a
token. The key is ``BLAKE2b(server secret, person="ostiary-webhook")``, the derivation
``shared_state`` uses for its own key, so the database alone (a backup, a dump) reveals no
secret, and a new server secret makes the old ciphertexts unreadable (the webhooks then need new
secrets). Each ciphertext is bound to its webhook's id (the AEAD's associated data): copied onto
another row, it does not open.
"""

from __future__ import annotations

import functools
import hashlib

from ostiary.config import Settings
from ostiary.security.sealing import Sealer, UnreadableSeal
from ostiary.security.server_secret import load_or_create_secret

UnreadableSecret = UnreadableSeal
"""A sealed webhook secret that does not open: another server secret, another row, or
tampering."""


class SecretBox(Sealer):
    """Seals and opens the webhooks' secrets (``security.sealing``'s AES-256-GCM, under the
    BLAKE2b-derived key their rows were sealed with)."""

    def __init__(self, server_secret: bytes) -> None:
        super().__init__(
            hashlib.blake2b(server_secret, digest_size=32, person=b"ostiary-webhook").digest()
        )


@functools.lru_cache(maxsize=4)
def _box(server_secret: bytes) -> SecretBox:
    return SecretBox(server_secret)


def box_for(settings: Settings) -> SecretBox:
    """The box of this server's secret (configured, or the data directory's)."""
    return _box(load_or_create_secret(settings))
