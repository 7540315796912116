"""Where OAuth tokens live between runs: :class:`MemoryTokenStore`, or :class:`FileTokenStore`,
which encrypts them at rest (Fernet: AES-128-CBC with HMAC-SHA256) with a key from the
``OSTIARY_TOKEN_KEY`` environment variable or the OS keyring."""

from __future__ import annotations

import json
import os
from pathlib import Path
from typing import TYPE_CHECKING, Protocol

from cryptography.fernet import Fernet, InvalidToken

from ostiary.client.errors import ClientError
from ostiary.files import write_private

if TYPE_CHECKING:
    from ostiary.client.oauth import OAuthTokens

KEY_VARIABLE = "OSTIARY_TOKEN_KEY"
KEYRING_SERVICE = "ostiary-token-store"


class TokenStore(Protocol):
    """Keeps one set of OAuth tokens."""

    def load(self) -> OAuthTokens | None:
        """The saved tokens, or None."""
        ...

    def save(self, tokens: OAuthTokens) -> None:
        """Replace the saved tokens."""
        ...

    def clear(self) -> None:
        """Forget the tokens."""
        ...


class MemoryTokenStore:
    """Tokens for the life of the process."""

    def __init__(self, tokens: OAuthTokens | None = None) -> None:
        self._tokens = tokens

    def load(self) -> OAuthTokens | None:
        """The tokens, or None."""
        return self._tokens

    def save(self, tokens: OAuthTokens) -> None:
        """Keep these tokens."""
        self._tokens = tokens

    def clear(self) -> None:
        """Forget the tokens."""
        self._tokens = None


def _key_from_keyring(path: Path) -> bytes | None:
    try:
        import keyring
        from keyring.errors import KeyringError
    except ImportError:
        return None
    try:
        stored = keyring.get_password(KEYRING_SERVICE, str(path))
        if stored is None:
            stored = Fernet.generate_key().decode()
            keyring.set_password(KEYRING_SERVICE, str(path), stored)
    except KeyringError:
        return None
    return str(stored).encode()


class FileTokenStore:
    """Tokens in a file readable by its owner only, encrypted with a key kept elsewhere: the
    given ``key``, else ``OSTIARY_TOKEN_KEY``, else one the OS keyring holds for this path."""

    def __init__(self, path: str | os.PathLike[str], key: bytes | str | None = None) -> None:
        self.path = Path(path)
        if key is None:
            key = os.environ.get(KEY_VARIABLE) or _key_from_keyring(self.path)
        if key is None:
            raise ClientError(
                f"No key to encrypt {self.path} with: set {KEY_VARIABLE} to a key made by "
                "`python -c 'from cryptography.fernet import Fernet; "
                "print(Fernet.generate_key().decode())'`, or install a keyring backend."
            )
        try:
            self._fernet = Fernet(key)
        except ValueError as error:
            raise ClientError(f"{KEY_VARIABLE} is not a Fernet key: {error}") from error

    def load(self) -> OAuthTokens | None:
        """The saved tokens, or None when there is no file."""
        from ostiary.client.oauth import OAuthTokens

        try:
            sealed = self.path.read_bytes()
        except FileNotFoundError:
            return None
        try:
            return OAuthTokens.from_json(json.loads(self._fernet.decrypt(sealed)))
        except InvalidToken as error:
            raise ClientError(f"{self.path} was not encrypted with this key.") from error

    def save(self, tokens: OAuthTokens) -> None:
        """Write the tokens, encrypted, replacing the file in one step."""
        write_private(self.path, self._fernet.encrypt(json.dumps(tokens.to_json()).encode()))

    def clear(self) -> None:
        """Delete the file."""
        self.path.unlink(missing_ok=True)
