"""Webhook secrets at rest: sealed with AES-256-GCM under a key derived from the server secret.

A webhook's signing secret must be read back for every delivery, so it cannot be hashed like a
token. The key is ``BLAKE2b(server secret, person="ostiary-webhook")``, the derivation
``shared_state`` uses for its own key, so the database alone (a backup, a dump) reveals no
secret, and a new server secret makes the old ciphertexts unreadable (the webhooks then need new
secrets). Each ciphertext is bound to its webhook's id (the AEAD's associated data): copied onto
another row, it does not open.
"""

from __future__ import annotations

import base64
import functools
import hashlib
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives.ciphers.aead import AESGCM

from ostiary.config import Settings
from ostiary.security.server_secret import load_or_create_secret

_VERSION = "v1:"
_NONCE = 12


class UnreadableSecret(Exception):
    """A sealed value does not open: another server secret, another row, or tampering."""


class SecretBox:
    """Seals and opens the webhooks' secrets."""

    def __init__(self, server_secret: bytes) -> None:
        key = hashlib.blake2b(server_secret, digest_size=32, person=b"ostiary-webhook").digest()
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, *, bound_to: str) -> str:
        """The ciphertext of ``plaintext``, readable only for the row ``bound_to``."""
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), bound_to.encode())
        return _VERSION + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, *, bound_to: str) -> str:
        """The plaintext of a sealed value; :class:`UnreadableSecret` when it does not open."""
        if not sealed.startswith(_VERSION):
            raise UnreadableSecret("unknown format")
        try:
            raw = base64.b64decode(sealed[len(_VERSION) :], validate=True)
            opened = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], bound_to.encode())
        except (ValueError, InvalidTag):
            raise UnreadableSecret("does not open") from None
        return opened.decode("utf-8")


@functools.lru_cache(maxsize=4)
def _box(server_secret: bytes) -> SecretBox:
    return SecretBox(server_secret)


def box_for(settings: Settings) -> SecretBox:
    """The box of this server's secret (configured, or the data directory's)."""
    return _box(load_or_create_secret(settings))
