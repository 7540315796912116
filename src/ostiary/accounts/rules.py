"""What an account may be made of, decided without storage: a valid email, a password that
follows the policy (NIST SP 800-63B section 5.1.1.2), and the rules of the links mailed to it.

The password policy: at least :data:`MIN_PASSWORD_LENGTH` characters (SP 800-63B asks for 8; we
choose 12), not on the common-password list (``accounts/common_passwords.py``), and not
containing the email's local part; no composition rules ("SHOULD NOT impose other composition
rules"). Each refusal says why.
"""

from __future__ import annotations

import re
import secrets
from datetime import datetime, timedelta

from ostiary.accounts.common_passwords import is_common
from ostiary.accounts.errors import WeakPassword

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")

MIN_PASSWORD_LENGTH = 12
# A local part shorter than this ("al@...") would refuse too many good passwords to be worth it.
MIN_LOCAL_PART = 3

# The links mailed to an account (accounts.models.EmailLink.purpose) and how long each works.
PASSWORD_RESET = "password-reset"  # noqa: S105 (a link's purpose, not a secret)
EMAIL_VERIFICATION = "email-verification"
LINK_LIFETIMES = {
    PASSWORD_RESET: timedelta(minutes=30),
    EMAIL_VERIFICATION: timedelta(hours=24),
}
# How many reset or verification links one account may be sent per LINK_WINDOW: whoever types
# an email into "Forgot password?" cannot flood its owner's mailbox.
LINKS_PER_WINDOW = 3
LINK_WINDOW = timedelta(hours=1)


def generate_password(email: str | None = None) -> str:
    """A random password (144 bits) the policy accepts for the account with ``email``, to be
    printed once. Drawn again in the rare case it happens to contain the email's local part."""
    while True:
        password = secrets.token_urlsafe(18)
        if password_problem(password, email) is None:
            return password


def password_problem(password: str, email: str | None = None) -> str | None:
    """Why the policy refuses ``password`` (for the account with ``email``), or None."""
    if len(password) < MIN_PASSWORD_LENGTH:
        return f"Password must be at least {MIN_PASSWORD_LENGTH} characters."
    if is_common(password, MIN_PASSWORD_LENGTH):
        return "This password is on a list of commonly used passwords; choose another."
    local = (email or "").rpartition("@")[0].strip().lower()
    if len(local) >= MIN_LOCAL_PART and local in password.lower():
        return "Password must not contain your email address's name (the part before the @)."
    return None


def validate_password(password: str, email: str | None = None) -> None:
    """Raise :class:`WeakPassword`, saying why, when the policy refuses the password."""
    problem = password_problem(password, email)
    if problem is not None:
        raise WeakPassword(problem)


def new_link_token() -> str:
    """A link's secret: 256 random bits, URL-safe (only its keyed hash is stored)."""
    return secrets.token_urlsafe(32)


def link_expiry(purpose: str, now: datetime) -> datetime:
    """When a link made ``now`` for ``purpose`` stops working."""
    return now + LINK_LIFETIMES[purpose]


def link_usable(*, used_at: datetime | None, expires_at: datetime, now: datetime) -> bool:
    """Whether a link may still be followed: never used (or voided), and not expired."""
    return used_at is None and now < expires_at
