"""The errors of accounts, each a kind of the domain error tree (``ostiary.errors``), which
``web.errors`` maps to HTTP."""

from __future__ import annotations

from ostiary.errors import Conflict, InvalidParams


class InvalidEmail(InvalidParams):
    """An email address that is malformed or too long."""

    def __init__(self, email: str) -> None:
        super().__init__("email", f"{email!r} is not a valid email address.")


class EmailTaken(Conflict):
    """Another account has this email address."""

    def __init__(self, email: str) -> None:
        super().__init__(f"An account with the email {email} already exists.")


class WeakPassword(InvalidParams):
    """A new password too short to resist guessing."""

    def __init__(self, min_length: int) -> None:
        super().__init__("password", f"Password must be at least {min_length} characters.")
