"""argon2id password hashing, and the same work for unknown accounts."""

from __future__ import annotations

import pytest

from ostiary.security import passwords


def test_hash_is_argon2id_and_verifies() -> None:
    hashed = passwords.hash_password("a long password")
    assert hashed.startswith("$argon2id$")
    assert passwords.verify_password(hashed, "a long password")
    assert not passwords.verify_password(hashed, "a long passworD")


def test_unknown_account_still_runs_one_argon2_verification(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    calls: list[str] = []
    real = passwords._hasher

    class CountingHasher:
        def verify(self, hash_: str, password: str) -> bool:
            calls.append(hash_)
            return real.verify(hash_, password)

    monkeypatch.setattr(passwords, "_hasher", CountingHasher())
    assert not passwords.verify_password(None, "guess")
    assert len(calls) == 1
    assert calls[0].startswith("$argon2id$")


def test_the_dummy_password_never_logs_anyone_in() -> None:
    assert not passwords.verify_password(None, "ostiary-dummy-password-for-timing")
