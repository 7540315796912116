"""Mail bodies sealed at rest: a mail that carries a one-time link (a password reset, an email
verification) waits in the outbox encrypted, so the database alone (a backup, a dump, a
replica) never shows a usable link.

AES-256-GCM under a key derived from the server secret with HKDF-SHA256 (RFC 5869,
``info="ostiary-mail-body"``), a random 96-bit nonce per body, and the outbox row's id as the
associated data: a body copied onto another row does not open. The outbox erases a sealed body
once it is sent or abandoned (``webhooks.outbox``).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "m1:"
_NONCE = 12
_INFO = b"ostiary-mail-body"


class UnreadableBody(Exception):
    """A sealed body does not open: another server secret, another row, or tampering."""


class BodySeal:
    """Seals and opens the bodies of the outbox's link-bearing mail."""

    def __init__(self, server_secret: bytes) -> None:
        key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_INFO).derive(
            server_secret
        )
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, *, bound_to: str) -> str:
        """The ciphertext of ``plaintext``, readable only for the outbox row ``bound_to``."""
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), bound_to.encode())
        return _VERSION + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, *, bound_to: str) -> str:
        """The plaintext of a sealed body; :class:`UnreadableBody` when it does not open."""
        if not sealed.startswith(_VERSION):
            raise UnreadableBody("unknown format")
        try:
            raw = base64.b64decode(sealed[len(_VERSION) :], validate=True)
            opened = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], bound_to.encode())
        except (ValueError, InvalidTag):
            raise UnreadableBody("does not open") from None
        return opened.decode("utf-8")
