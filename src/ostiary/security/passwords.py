"""Password hashing with argon2id (argon2-cffi's RFC 9106 low-memory profile)."""

from __future__ import annotations

from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

_hasher = PasswordHasher()
# Verifying against this hash when an email is unknown makes a failed login cost the same time
# whether or not the account exists, so timing does not reveal which emails are registered.
_DUMMY_HASH = _hasher.hash("ostiary-dummy-password-for-timing")


def hash_password(password: str) -> str:
    """Hash a password with argon2id and a random salt."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """Check a password against its hash in constant time; ``None`` verifies a dummy hash."""
    try:
        return _hasher.verify(password_hash or _DUMMY_HASH, password) and password_hash is not None
    except (VerifyMismatchError, VerificationError, InvalidHashError):
        return False


def needs_rehash(password_hash: str) -> bool:
    """Whether a stored hash was made with older parameters and should be replaced."""
    return _hasher.check_needs_rehash(password_hash)
