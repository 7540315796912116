"""What the server knows about a presented token, read by a prepared lookup: the facts token
introspection (RFC 7662 section 2.2) answers with.

Introspection runs for every API call a resource server checks, so an access token is looked up
with one joined SELECT (token, authorization, account) and a refresh token with a second only
when the first finds nothing.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime

from sqlalchemy import Select, bindparam

from ostiary.accounts.models import Account
from ostiary.db import Database, table_of
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
    if found is None:
        found = database.prepared(_REFRESH).first_as(_REFRESH_DESCRIPTION, token_hash=token_hash)
    if found is None or found.authorization_kind != AuthorizationKind.API_KEY:
        return found
    ages = [age for age in (api_key_max_age, found.account_api_key_max_age) if age]
    ends = api_key_expiry(found.issued_at, min(ages) if ages else None)
    if ends is None or (found.expires_at is not None and found.expires_at <= ends):
        return found
    return replace(found, expires_at=ends)
