"""What an account may be made of: a long enough password, a well-formed email."""

from __future__ import annotations

import pytest

from ostiary.accounts.errors import WeakPassword
from ostiary.accounts.rules import (
    EMAIL_PATTERN,
    MIN_PASSWORD_LENGTH,
    generate_password,
    validate_password,
)


def test_a_short_password_is_refused_and_says_how_long_it_must_be() -> None:
    with pytest.raises(WeakPassword) as refused:
        validate_password("x" * (MIN_PASSWORD_LENGTH - 1))
    assert refused.value.field == "password"
    assert str(MIN_PASSWORD_LENGTH) in refused.value.message
    validate_password("x" * MIN_PASSWORD_LENGTH)


def test_generated_passwords_are_long_and_different() -> None:
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        validate_password(password)
        assert len(password) >= 24  # 18 random bytes, base64url


@pytest.mark.parametrize(
    ("email", "valid"),
    [
        ("user@example.com", True),
        ("first.last+tag@sub.example.org", True),
        ("no-at-sign.example.com", False),
        ("two@@example.com", False),
        ("space in@example.com", False),
        ("user@localhost", False),
        ("", False),
    ],
)
def test_email_pattern(email: str, valid: bool) -> None:
    assert (EMAIL_PATTERN.match(email) is not None) is valid
