"""Values that must be read back (a TOTP seed), sealed at rest with AES-256-GCM under a key
derived from the server secret by HKDF-SHA256 (RFC 5869).

Each purpose has its own key (HKDF's ``info``), so a ciphertext of one kind never opens as
another; and each ciphertext is bound to its row (the AEAD's associated data), so one copied
onto another account's row does not open either. The database alone (a backup, a dump) reveals
no secret; a new server secret makes the old ciphertexts unreadable.

Sealed here: TOTP seeds (``second_factors``), the bodies of mail carrying a one-time link while
they wait in the outbox (:func:`mail_body_sealer`), and webhook secrets (``webhooks.secrets``,
with a key derived as it was before this module).
"""

from __future__ import annotations

import base64
import os

from cryptography.exceptions import InvalidTag
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.ciphers.aead import AESGCM
from cryptography.hazmat.primitives.kdf.hkdf import HKDF

_VERSION = "v1:"
_NONCE = 12


class UnreadableSeal(Exception):
    """A sealed value does not open: another server secret, another row, or tampering."""


def derive_key(server_secret: bytes, purpose: str) -> bytes:
    """A 256-bit key for one purpose, derived from the server secret (HKDF-SHA256)."""
    return HKDF(
        algorithm=hashes.SHA256(),
        length=32,
        salt=None,
        info=f"ostiary:{purpose}".encode(),
    ).derive(server_secret)


class Sealer:
    """Seals and opens the values of one purpose with AES-256-GCM."""

    def __init__(self, key: bytes) -> None:
        self._aead = AESGCM(key)

    def seal(self, plaintext: str, *, bound_to: str) -> str:
        """The ciphertext of ``plaintext``, which opens only for the row ``bound_to``."""
        nonce = os.urandom(_NONCE)
        sealed = self._aead.encrypt(nonce, plaintext.encode("utf-8"), bound_to.encode())
        return _VERSION + base64.b64encode(nonce + sealed).decode("ascii")

    def open(self, sealed: str, *, bound_to: str) -> str:
        """The plaintext of a sealed value; :class:`UnreadableSeal` when it does not open."""
        if not sealed.startswith(_VERSION):
            raise UnreadableSeal("unknown format")
        try:
            raw = base64.b64decode(sealed[len(_VERSION) :], validate=True)
            opened = self._aead.decrypt(raw[:_NONCE], raw[_NONCE:], bound_to.encode())
        except (ValueError, InvalidTag):
            raise UnreadableSeal("does not open") from None
        return opened.decode("utf-8")


def mail_body_sealer(server_secret: bytes) -> Sealer:
    """The sealer of the outbox's link-bearing mail bodies (a password reset, an email
    verification), each bound to its outbox row; the outbox erases a sealed body once it is
    sent or abandoned (``webhooks.outbox``)."""
    return Sealer(derive_key(server_secret, "mail-body"))
