"""What the server knows about a presented token, read by a prepared lookup: the facts token
introspection (RFC 7662 section 2.2) answers with.

Introspection runs for every API call a resource server checks, so an access token is looked up
with one joined SELECT (token, authorization, account) and a refresh token with a second only
when the first finds nothing.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Any

from sqlalchemy import Select, bindparam, select

from ostiary.accounts.models import Account
from ostiary.clock import utcnow
from ostiary.db import Database, table_of
from ostiary.prepared import as_list, as_utc
from ostiary.tokens.models import AccessToken, Authorization, RefreshToken

_access = table_of(AccessToken)
_refresh = table_of(RefreshToken)
_authorizations = table_of(Authorization)
_accounts = table_of(Account)

_AUTHORIZATION_COLUMNS = (
    _authorizations.c.scopes,
    _authorizations.c.client_id,
    _authorizations.c.account_id,
    _accounts.c.email,
    _authorizations.c.expires_at,
    _authorizations.c.revoked_at,
)


def _lookup(token_table: type[AccessToken] | type[RefreshToken]) -> Select[tuple[object, ...]]:
    table = table_of(token_table)
    return (
        select(*_AUTHORIZATION_COLUMNS)
        .join_from(table, _authorizations, table.c.authorization_id == _authorizations.c.id)
        .join(_accounts, _authorizations.c.account_id == _accounts.c.id)
        .where(table.c.token_hash == bindparam("token_hash"))
    )


_ACCESS = _lookup(AccessToken).add_columns(
    _access.c.created_at, _access.c.expires_at, _access.c.revoked_at
)
_REFRESH = _lookup(RefreshToken).add_columns(
    _refresh.c.created_at, _refresh.c.generation, _authorizations.c.refresh_generation
)


@dataclass(frozen=True, slots=True)
class TokenDescription:
    """A stored token and the authorization it belongs to."""

    token_type: str  # "Bearer" or "refresh_token" (RFC 7662 section 2.2, token_type)
    live: bool  # the token itself: not revoked, expired or rotated away
    scopes: list[str]
    client_id: str | None
    account_id: str
    email: str
    issued_at: datetime
    expires_at: datetime | None
    authorization_expires_at: datetime | None
    authorization_revoked_at: datetime | None

    def active(self, now: datetime) -> bool:
        """Whether the token would be accepted at ``now``."""
        return (
            self.live
            and self.authorization_revoked_at is None
            and all(
                expiry is None or expiry > now
                for expiry in (self.expires_at, self.authorization_expires_at)
            )
        )


def _describe(
    token_type: str,
    live: bool,
    issued_at: datetime,
    expires_at: datetime | None,
    authorization: Sequence[Any],
) -> TokenDescription:
    scopes, client_id, account_id, email, authorization_expires_at, revoked_at = authorization
    return TokenDescription(
        token_type=token_type,
        live=live,
        scopes=as_list(scopes) or [],
        client_id=client_id,
        account_id=account_id,
        email=email,
        issued_at=as_utc(issued_at) or utcnow(),
        expires_at=as_utc(expires_at),
        authorization_expires_at=as_utc(authorization_expires_at),
        authorization_revoked_at=as_utc(revoked_at),
    )


def describe_token(database: Database, token_hash: str) -> TokenDescription | None:
    """The access or refresh token with this keyed hash, as last committed, or None."""
    row = database.prepared(_ACCESS).first(token_hash=token_hash)
    if row is not None:
        issued_at, expires_at, revoked_at = row[6:]
        return _describe("Bearer", revoked_at is None, issued_at, expires_at, row[:6])
    row = database.prepared(_REFRESH).first(token_hash=token_hash)
    if row is None:
        return None
    issued_at, generation, current_generation = row[6:]
    # A refresh token lives as long as its authorization, while it is the current generation.
    authorization_expires_at = row[4]
    return _describe(
        "refresh_token",
        generation == current_generation,
        issued_at,
        authorization_expires_at,
        row[:6],
    )
