"""What the server knows about a presented token, read by a prepared lookup: the facts token
introspection (RFC 7662 section 2.2) answers with.

Introspection runs for every API call a resource server checks, so an access token is looked up
with one joined SELECT (token, authorization, account), together with the client that asks
(:func:`client_with_access`), and a refresh token with a second only when the first finds
nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Select, bindparam, select, true

from ostiary.accounts.models import Account
from ostiary.db import Database, table_of
from ostiary.oauth_clients.models import OAuthClient
from ostiary.oauth_clients.records import CLIENT_RECORD, ClientRecord
from ostiary.policies.models import AccountTokenPolicy
from ostiary.policies.rules import api_key_expiry
from ostiary.prepared import ReadModel
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind, RefreshToken


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
    # Suspended by an alert (ostiary.alerts): refused by the authenticator, so inactive here too.
    suspended_at: datetime | None
    # An API key's age limit is the account's stricter one or the server's (policies): read
    # with the token, so introspection refuses a key past it as the authenticator does.
    authorization_kind: str = ""
    account_api_key_max_age: int | None = None
    # An administrator disabled the account: its tokens are refused, so inactive here too.
    account_disabled_at: datetime | None = None

    def active(self, now: datetime) -> bool:
        """Whether the token would be accepted at ``now``."""
        return (
            self.live
            and self.authorization_revoked_at is None
            and self.suspended_at is None
            and self.account_disabled_at is None
            and all(
                expiry is None or expiry > now
                for expiry in (self.expires_at, self.authorization_expires_at)
            )
        )


_access = table_of(AccessToken)
_refresh = table_of(RefreshToken)
_authorizations = table_of(Authorization)
_accounts = table_of(Account)
_policies = table_of(AccountTokenPolicy)
_clients = table_of(OAuthClient)

_ACCESS_DESCRIPTION = ReadModel(
    TokenDescription,
    _authorizations,  # scopes, client_id, account_id
    token_type="Bearer",  # noqa: S106 (RFC 7662 token_type, not a secret)
    live=_access.c.revoked_at.is_(None),
    email=_accounts.c.email,
    issued_at=_access.c.created_at,
    expires_at=_access.c.expires_at,
    authorization_expires_at=_authorizations.c.expires_at,
    authorization_revoked_at=_authorizations.c.revoked_at,
    authorization_kind=_authorizations.c.kind,
    account_api_key_max_age=_policies.c.api_key_max_age,
    account_disabled_at=_accounts.c.disabled_at,
)

_REFRESH_DESCRIPTION = ReadModel(
    TokenDescription,
    _authorizations,
    token_type="refresh_token",  # noqa: S106 (RFC 7662 token_type, not a secret)
    # A refresh token lives as long as its authorization, while it is the current generation.
    live=_refresh.c.generation == _authorizations.c.refresh_generation,
    email=_accounts.c.email,
    issued_at=_refresh.c.created_at,
    expires_at=_authorizations.c.expires_at,
    authorization_expires_at=_authorizations.c.expires_at,
    authorization_revoked_at=_authorizations.c.revoked_at,
    authorization_kind=_authorizations.c.kind,
    account_api_key_max_age=_policies.c.api_key_max_age,
    account_disabled_at=_accounts.c.disabled_at,
)


def _lookup(
    description: ReadModel[TokenDescription], token_model: type[AccessToken] | type[RefreshToken]
) -> Select[tuple[object, ...]]:
    table = table_of(token_model)
    return (
        description.select()
        .join_from(table, _authorizations, table.c.authorization_id == _authorizations.c.id)
        .join(_accounts, _authorizations.c.account_id == _accounts.c.id)
        .outerjoin(_policies, _policies.c.account_id == _accounts.c.id)
        .where(table.c.token_hash == bindparam("token_hash"))
    )


_ACCESS = _lookup(_ACCESS_DESCRIPTION, AccessToken)
_REFRESH = _lookup(_REFRESH_DESCRIPTION, RefreshToken)


def describe_token(
    database: Database, token_hash: str, api_key_max_age: int | None = None
) -> TokenDescription | None:
    """The access or refresh token with this keyed hash, as last committed, or None. An API
    key's token expires at its issue plus the shorter of ``api_key_max_age`` (the server's) and
    its account's (``policies``), as the authenticator refuses it."""
    found = database.prepared(_ACCESS).first_as(_ACCESS_DESCRIPTION, token_hash=token_hash)
    return complete_description(database, token_hash, found, api_key_max_age)


def complete_description(
    database: Database,
    token_hash: str,
    access: TokenDescription | None,
    api_key_max_age: int | None = None,
) -> TokenDescription | None:
    """:func:`describe_token`'s answer, given what the lookup of an access token with this hash
    found (``access``): the refresh token is looked up when it found none."""
    found = access
    if found is None:
        found = database.prepared(_REFRESH).first_as(_REFRESH_DESCRIPTION, token_hash=token_hash)
    if found is None or found.authorization_kind != AuthorizationKind.API_KEY:
        return found
    ages = [age for age in (api_key_max_age, found.account_api_key_max_age) if age]
    ends = api_key_expiry(found.issued_at, min(ages) if ages else None)
    if ends is None or (found.expires_at is not None and found.expires_at <= ends):
        return found
    return replace(found, expires_at=ends)


# Introspection's client and token in one lookup: the client by id and, beside it, the access
# token by hash (NULLs when there is none). Introspection reads both for every request; on
# PostgreSQL each lookup is a round trip and about 50 us of a worker's CPU (docs/architecture.md,
# "Introspection in one lookup").
_DESCRIBED = "described__"  # the prefix of the access token's columns
_access_found = _ACCESS.subquery("described")
_CLIENT_WITH_ACCESS = (
    select(
        *CLIENT_RECORD.columns(),
        *(column.label(f"{_DESCRIBED}{column.key}") for column in _access_found.c),
    )
    .select_from(_clients.outerjoin(_access_found, true()))
    .where(_clients.c.id == bindparam("client_id"))
)
_LABELS = list(_CLIENT_WITH_ACCESS.selected_columns.keys())
_read_client = CLIENT_RECORD.reader(_LABELS)
_read_access = _ACCESS_DESCRIPTION.reader(_LABELS, _DESCRIBED)
_ACCESS_FOUND = _LABELS.index(f"{_DESCRIBED}account_id")  # never NULL for a token found


def client_with_access(
    database: Database, client_id: str, token_hash: str
) -> tuple[ClientRecord | None, TokenDescription | None]:
    """The client ``client_id`` and the access token with this keyed hash, as last committed,
    in one lookup: each None when there is none (a refresh token is not looked for: complete
    the token's description with :func:`complete_description`)."""
    row = database.prepared(_CLIENT_WITH_ACCESS).first(client_id=client_id, token_hash=token_hash)
    if row is None:
        return None, None
    access = _read_access(row) if row[_ACCESS_FOUND] is not None else None
    return _read_client(row), access
