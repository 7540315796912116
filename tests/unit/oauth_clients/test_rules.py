"""What a client may be registered with, and whether a secret is the client's."""

from __future__ import annotations

import dataclasses
from datetime import UTC, datetime, timedelta

import pytest

from ostiary.errors import Forbidden, InvalidParams
from ostiary.oauth_clients.records import ClientRecord
from ostiary.oauth_clients.rules import (
    checked_client_credentials_scopes,
    checked_description,
    checked_name,
    verify_client_secret,
)
from ostiary.security.hashing import SecretHasher

HASHER = SecretHasher(b"k" * 32)
NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def _client(secret: str | None) -> ClientRecord:
    return ClientRecord(
        id="c",
        owner_id="o",
        name="App",
        client_type="confidential" if secret else "public",
        secret_hash=HASHER.hash(secret) if secret else None,
        client_credentials_scopes=None,
    )


def test_names_are_trimmed_and_bounded() -> None:
    assert checked_name("  My app ") == "My app"
    for bad in ("", "   ", "x" * 101):
        with pytest.raises(InvalidParams):
            checked_name(bad)
    assert checked_description(" d ") == "d"
    with pytest.raises(InvalidParams):
        checked_description("x" * 501)


def test_client_credentials_scopes_are_no_wider_than_the_registering_token() -> None:
    assert checked_client_credentials_scopes(None, frozenset({"read"})) is None
    assert checked_client_credentials_scopes(["read"], frozenset({"write"})) == ["read"]
    with pytest.raises(Forbidden):
        checked_client_credentials_scopes(["write"], frozenset({"read"}))
    with pytest.raises(InvalidParams):
        checked_client_credentials_scopes(["root"], frozenset({"global"}))


def test_only_the_current_secret_of_a_confidential_client_matches() -> None:
    client = _client("the-secret")
    assert verify_client_secret(HASHER, client, "the-secret")
    assert not verify_client_secret(HASHER, client, "the-secret ")
    assert not verify_client_secret(HASHER, client, "")
    assert not verify_client_secret(HASHER, client, None)
    assert not verify_client_secret(HASHER, _client(None), "anything")  # public: no secret


def _rotated(current: str, previous: str, ends_in: timedelta) -> ClientRecord:
    return dataclasses.replace(
        _client(current),
        previous_secret_hash=HASHER.hash(previous),
        previous_secret_expires_at=NOW + ends_in,
    )


def test_the_replaced_secret_matches_only_during_its_grace() -> None:
    client = _rotated("new-secret", "old-secret", timedelta(seconds=30))
    assert verify_client_secret(HASHER, client, "new-secret", NOW)
    assert verify_client_secret(HASHER, client, "old-secret", NOW)
    assert not verify_client_secret(HASHER, client, "other", NOW)
    after = NOW + timedelta(seconds=30)
    assert not verify_client_secret(HASHER, client, "old-secret", after)
    assert verify_client_secret(HASHER, client, "new-secret", after)


def test_a_previous_end_without_a_previous_secret_admits_nothing_more() -> None:
    client = dataclasses.replace(
        _client("new-secret"), previous_secret_expires_at=NOW + timedelta(days=1)
    )
    assert verify_client_secret(HASHER, client, "new-secret", NOW)
    assert not verify_client_secret(HASHER, client, "old-secret", NOW)
    assert not verify_client_secret(HASHER, client, "", NOW)
