"""What an account may be made of: the password policy (NIST SP 800-63B section 5.1.1.2), a
well-formed email, and the rules of the links mailed to it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ostiary.accounts.common_passwords import read_list
from ostiary.accounts.errors import WeakPassword
from ostiary.accounts.rules import (
    EMAIL_PATTERN,
    EMAIL_VERIFICATION,
    MIN_PASSWORD_LENGTH,
    PASSWORD_RESET,
    generate_password,
    link_expiry,
    link_usable,
    new_link_token,
    password_problem,
    validate_password,
)
from tests.support.factories import PASSWORD

NOW = datetime(2026, 12, 2, 2, 0, tzinfo=UTC)


def test_the_minimum_is_twelve_characters_and_the_refusal_says_so() -> None:
    assert MIN_PASSWORD_LENGTH == 12
    with pytest.raises(WeakPassword) as refused:
        validate_password("k7#Qz!m2@pLw"[:11])
    assert refused.value.field == "password"
    assert refused.value.message == "Password must be at least 12 characters."
    validate_password("k7#Qz!m2@pLw")


def test_the_common_password_list_is_large_and_shipped() -> None:
    listed = read_list()
    assert len(listed) >= 20_000
    assert listed[:2] == ("123456", "password")


@pytest.mark.parametrize("common", ["1234567890qwerty", "1234567890QWERTY", "123456789Qwerty"])
def test_a_common_password_is_refused_in_any_case(common: str) -> None:
    assert common.lower() in {entry.lower() for entry in read_list()}
    with pytest.raises(WeakPassword) as refused:
        validate_password(common)
    assert "commonly used" in refused.value.message


def test_every_listed_password_long_enough_to_pass_the_length_is_refused() -> None:
    long_ones = [entry for entry in read_list() if len(entry) >= MIN_PASSWORD_LENGTH]
    assert long_ones, "the list has long entries"
    for entry in long_ones:
        assert password_problem(entry.upper()) is not None, entry


def test_a_password_containing_the_emails_local_part_is_refused() -> None:
    with pytest.raises(WeakPassword) as refused:
        validate_password("my name is Ada.Lovelace ok", "ada.lovelace@example.com")
    assert "before the @" in refused.value.message
    # The domain is not the local part, and another account's name is fine.
    validate_password("example.com is my home", "ada.lovelace@example.com")
    validate_password("my name is Ada.Lovelace ok", "grace@example.com")


def test_a_local_part_of_two_characters_is_not_checked() -> None:
    validate_password("abcdef-ab-ghijk", "ab@example.com")
    with pytest.raises(WeakPassword):
        validate_password("abcdef-abc-ghijk", "abc@example.com")


@pytest.mark.parametrize(
    "password",
    ["all lowercase words here", "ALLUPPERCASEWORDS", "123456789014725836", "ééééééééééééé"],
)
def test_no_composition_rules(password: str) -> None:
    validate_password(password, "someone@example.com")


def test_the_test_suites_password_and_generated_ones_pass() -> None:
    validate_password(PASSWORD, "user-0-abcdef@example.com")
    passwords = {generate_password() for _ in range(50)}
    assert len(passwords) == 50
    for password in passwords:
        validate_password(password)
        assert len(password) >= 24  # 18 random bytes, base64url


def test_link_tokens_are_long_random_and_url_safe() -> None:
    tokens = {new_link_token() for _ in range(100)}
    assert len(tokens) == 100
    for token in tokens:
        assert len(token) >= 43  # 32 bytes
        assert token.replace("-", "").replace("_", "").isalnum()


def test_a_reset_link_lives_thirty_minutes_and_a_verification_a_day() -> None:
    assert link_expiry(PASSWORD_RESET, NOW) == NOW + timedelta(minutes=30)
    assert link_expiry(EMAIL_VERIFICATION, NOW) == NOW + timedelta(hours=24)


def test_a_link_is_usable_once_and_until_it_expires() -> None:
    ends = NOW + timedelta(minutes=30)
    assert link_usable(used_at=None, expires_at=ends, now=NOW)
    assert not link_usable(used_at=NOW, expires_at=ends, now=NOW)
    assert not link_usable(used_at=None, expires_at=ends, now=ends)


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


def test_a_generated_password_never_contains_the_emails_local_part(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    draws = iter(["xxbobxxxxxxxxxxxxxxxxxxx", "a-random-enough-password"])
    monkeypatch.setattr("ostiary.accounts.rules.secrets.token_urlsafe", lambda _: next(draws))
    assert generate_password("bob@example.com") == "a-random-enough-password"
