"""The server secret: configured, or generated once into the data directory (mode 0600)."""

from __future__ import annotations

import os
import secrets
from pathlib import Path

from ostiary.config import Settings
from ostiary.files import private_directory


def load_or_create_secret(settings: Settings) -> bytes:
    """The configured secret key, or the one stored in the data directory, created if absent."""
    if settings.secret_key is not None:
        return settings.secret_key.get_secret_value().encode("utf-8")
    path: Path = settings.secret_key_path
    if not path.exists():
        private_directory(path.parent)
        # O_EXCL: two workers starting at once must not each write a different secret.
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            pass
        else:
            with os.fdopen(fd, "w") as handle:
                handle.write(secrets.token_urlsafe(48))
    value = path.read_text().strip()
    if len(value) < 32:
        raise RuntimeError(f"{path} holds a secret shorter than 32 characters")
    return value.encode("utf-8")
