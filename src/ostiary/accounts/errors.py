"""The errors of accounts, each a kind of the domain error tree (``ostiary.errors``), which
``web.errors`` maps to HTTP."""

from __future__ import annotations

from ostiary.errors import Conflict, InvalidParams, RateLimited, Unauthorized

DISABLED_MESSAGE = "This account is disabled. Ask the server's administrator to enable it."


class InvalidEmail(InvalidParams):
    """An email address that is malformed or too long."""

    def __init__(self, email: str) -> None:
        super().__init__("email", f"{email!r} is not a valid email address.")


class EmailTaken(Conflict):
    """Another account has this email address."""

    def __init__(self, email: str) -> None:
        super().__init__(f"An account with the email {email} already exists.")


class WeakPassword(InvalidParams):
    """A new password the policy refuses (``accounts.rules``); the message says why."""

    def __init__(self, reason: str) -> None:
        super().__init__("password", reason)


class AccountDisabled(Unauthorized):
    """The account was disabled by an administrator: its credentials are refused."""

    def __init__(self) -> None:
        super().__init__(DISABLED_MESSAGE)


class LinkNotUsable(InvalidParams):
    """A reset or verification link that is unknown, used, voided or expired (one answer for
    all: which one it was helps nobody but a guesser)."""

    def __init__(self) -> None:
        super().__init__("token", "This link has expired or was already used. Ask for a new one.")


class TooManyLinks(RateLimited):
    """The account was sent as many reset or verification mails as an hour allows."""

    def __init__(self) -> None:
        super().__init__(3600)
        self.message = "Too many of these mails were sent to this account. Try again in an hour."
        self.args = (self.message,)
