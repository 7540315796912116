"""What a client may be registered with, decided without storage: its name, description and
client-credentials scopes; and whether a secret is the client's.
"""

from __future__ import annotations

import hmac
from datetime import UTC, datetime

from ostiary.errors import Forbidden, InvalidParams
from ostiary.oauth_clients.records import ClientRecord
from ostiary.scopes import covers, parse_scopes
from ostiary.security.hashing import SecretHasher


def checked_client_credentials_scopes(
    value: object, creator_scopes: frozenset[str]
) -> list[str] | None:
    """The scopes the client-credentials grant may give (None: not allowed), no wider than
    the token registering the client."""
    if value is None:
        return None
    scopes = parse_scopes(value, "client_credentials_scopes")
    if not covers(creator_scopes, scopes):
        raise Forbidden("A client cannot be allowed scopes wider than the token registering it.")
    return scopes


def checked_name(name: str) -> str:
    """A client name, trimmed: 1 to 100 characters."""
    name = name.strip()
    if not name or len(name) > 100:
        raise InvalidParams("name", "name must be 1 to 100 characters.")
    return name


def checked_description(description: str) -> str:
    """A client description, trimmed: at most 500 characters."""
    description = description.strip()
    if len(description) > 500:
        raise InvalidParams("description", "description must be at most 500 characters.")
    return description


def verify_client_secret(
    hasher: SecretHasher, client: ClientRecord, secret: str | None, now: datetime | None = None
) -> bool:
    """Whether a secret is this confidential client's current one, or the one a rotation with a
    grace period replaced while that grace lasts (:func:`client_secret_hash_matches`, on the
    secret's keyed hash)."""
    if not secret:
        return False
    return client_secret_hash_matches(client, hasher.hash(secret), now)


def client_secret_hash_matches(
    client: ClientRecord, secret_hash: str, now: datetime | None = None
) -> bool:
    """Whether the keyed hash of a presented secret is this confidential client's current
    secret's, or that of the one a rotation with a grace period replaced while that grace lasts
    (each compared in constant time, and both always compared, so the answer's time does not
    tell which one matched)."""
    if client.secret_hash is None:
        return False
    current = hmac.compare_digest(secret_hash, client.secret_hash)
    previous_hash, previous_ends = client.previous_secret_hash, client.previous_secret_expires_at
    in_grace = previous_ends is not None and previous_ends > (now or datetime.now(UTC))
    # Compared against the current hash again when there is no previous one: the same work.
    previous = hmac.compare_digest(secret_hash, previous_hash or client.secret_hash) and in_grace
    return current | (previous and previous_hash is not None)
