"""What the token services take and hand back besides ORM rows: the authorization to create,
newly issued secrets (shown once), the live tokens of authorizations, what an account granted
each OAuth client, and who an authenticated request acts for.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ostiary.accounts.models import Account
from ostiary.accounts.records import AccountSnapshot
from ostiary.oauth2.protocols import TokenSet
from ostiary.oauth_clients.models import OAuthClient
from ostiary.tokens.models import (
    AccessToken,
    Authorization,
    AuthorizationGrant,
    RefreshToken,
)


@dataclass(frozen=True, slots=True)
class NewAuthorization:
    """An authorization to create (``tokens.services.create_authorization``).

    ``creator_scopes`` bound its scopes; with a ``client`` it is an OAuth grant to that client;
    ``login_session_id`` ties it to a login session, ``parent`` to the authorization whose token
    made it (it dies with either).
    """

    account_id: str
    scopes: list[str]
    description: str
    expires_in: int | None
    creator_scopes: frozenset[str]
    client: OAuthClient | None = None
    login_session_id: str | None = None
    parent: Authorization | None = None


@dataclass(frozen=True, slots=True)
class RequestedAuthorization:
    """An authorization as an API client asks for it (``POST /oauth/authorizations``), not yet
    parsed: scope (``["global"]`` when None), description, lifetime, and a client by id."""

    scope: list[str] | str | None = None
    description: str = ""
    expires_in: object = None
    client_id: str | None = None


@dataclass(frozen=True, slots=True)
class ClientGrant:
    """What an account granted one OAuth client, across its authorizations."""

    client_id: str
    client_name: str
    scopes: list[str]
    granted_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class IssuedRefresh:
    """A new refresh token: its row and its plaintext, shown once."""

    row: RefreshToken
    plaintext: str


@dataclass(frozen=True, slots=True)
class IssuedGrant:
    """A new authorization code: its row and its plaintext, shown once."""

    row: AuthorizationGrant
    code: str


@dataclass(frozen=True, slots=True)
class IssuedAuthorization:
    """An authorization with the secrets issued for it."""

    authorization: Authorization
    access: IssuedToken
    refresh: IssuedRefresh | None = None
    grant: IssuedGrant | None = None

    def token_set(self) -> TokenSet:
        """The secrets as a token response shows them."""
        return TokenSet(
            access_token=self.access.plaintext,
            expires_at=self.access.row.expires_at,
            scopes=list(self.authorization.scopes),
            account_id=self.authorization.account_id,
            session_id=self.authorization.session_id,
            refresh_token=self.refresh.plaintext if self.refresh else None,
        )


@dataclass(frozen=True, slots=True)
class LiveTokens:
    """An authorization's newest live access token and current refresh token, if any."""

    access: AccessToken | None = None
    refresh: RefreshToken | None = None


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly minted token: its row, and the plaintext that is shown once and never stored."""

    row: AccessToken
    plaintext: str


@dataclass(frozen=True, slots=True)
class Principal:
    """Who a request acts for, and with what scopes."""

    account: AccountSnapshot
    authorization_id: str
    authorization_kind: str
    scopes: frozenset[str]
    session_id: str | None = None
    access_token_id: str | None = None
    # The OAuth client of a grant or client-credentials authorization (the activity log).
    client_id: str | None = None
    # When the presented credential stops working (the Ostiary-Token-Expires header): the
    # earliest of its access token's expiry, its authorization's and the token policy's
    # (``policies.rules.effective_expiry``, the API key's maximum age); None: never.
    expires_at: datetime | None = None

    @property
    def account_id(self) -> str:
        """The id of the account the request acts for."""
        return self.account.id


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A created account and its API key, whose plaintext is shown once."""

    account: Account
    api_key: IssuedToken
