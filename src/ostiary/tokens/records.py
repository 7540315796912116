"""What the token services hand back besides ORM rows: newly issued secrets (shown once), the
live tokens of authorizations, and who an authenticated request acts for.
"""

from __future__ import annotations

from dataclasses import dataclass

from ostiary.accounts.records import AccountSnapshot
from ostiary.oauth2.protocols import TokenSet
from ostiary.tokens.models import (
    AccessToken,
    Authorization,
    AuthorizationGrant,
    RefreshToken,
)


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

    @property
    def account_id(self) -> str:
        """The id of the account the request acts for."""
        return self.account.id
