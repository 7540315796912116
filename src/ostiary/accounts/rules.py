"""What an account may be made of, decided without storage: a valid email, a long password."""

from __future__ import annotations

import re
import secrets

from ostiary.accounts.errors import WeakPassword

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")


MIN_PASSWORD_LENGTH = 10


def generate_password() -> str:
    """A random password for a first account, to be printed once."""
    return secrets.token_urlsafe(18)


def validate_password(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise WeakPassword(MIN_PASSWORD_LENGTH)
