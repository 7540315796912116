"""What the protocol core needs from storage, as typed Protocols the domain packages implement,
and the values that cross between them (the way authlib leaves ``query_token`` and
``revoke_token`` to its integration).

Nothing here knows a table. Each store works inside one transaction its integration opens; a
method that finds a code, a refresh token or a device code locks what it found for the rest of
that transaction, so two concurrent uses of one secret are decided one after the other.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime
from typing import Literal, Protocol, TypeVar


class ClientIdentity(Protocol):
    """What every view of a registered client has (RFC 6749 section 2)."""

    @property
    def id(self) -> str:
        """The client_id."""
        ...

    @property
    def owner_id(self) -> str | None:
        """The account that registered it; None for a client that ships with the server."""
        ...

    @property
    def name(self) -> str:
        """What users see on approval pages."""
        ...

    @property
    def is_public(self) -> bool:
        """Whether the client has no secret (RFC 6749 section 2.1)."""
        ...

    @property
    def client_credentials_scopes(self) -> list[str] | None:
        """What the client credentials grant may give; None when it is not allowed."""
        ...


class Client(ClientIdentity, Protocol):
    """A registered client as the token, revocation and introspection endpoints see it."""

    @property
    def owner_active(self) -> bool:
        """Whether tokens may act for the owner now (False once its account is disabled)."""
        ...


class RegisteredClient(ClientIdentity, Protocol):
    """A client with its registered redirect URIs, as the authorization endpoint sees it."""

    @property
    def redirect_uris(self) -> list[str]:
        """The redirect URIs registered for the client (RFC 6749 section 3.1.2)."""
        ...


C = TypeVar("C", bound=Client)


class ClientStore(Protocol[C]):
    """Finds clients and checks their secrets (RFC 6749 section 2.3.1)."""

    def find_client(self, client_id: str) -> C | None:
        """The client with this id, or None."""
        ...

    def secret_matches(self, client: C, secret: str | None) -> bool:
        """Whether ``secret`` is the confidential client's current secret (constant time)."""
        ...


class ClientDirectory(Protocol):
    """Finds clients with their redirect URIs, for the authorization endpoint."""

    def find_registered(self, client_id: str) -> RegisteredClient | None:
        """The client with this id, or None."""
        ...


@dataclass(frozen=True, slots=True)
class TokenSet:
    """What a token response (RFC 6749 section 5.1) tells a client: new secrets, shown once."""

    access_token: str
    expires_at: datetime | None
    scopes: list[str]
    account_id: str
    session_id: str | None
    refresh_token: str | None = None

    def token_set(self) -> TokenSet:
        """Itself: a token set is the simplest :class:`Issued`."""
        return self


class Issued(Protocol):
    """What a store hands back for newly issued tokens; the token endpoint answers its token
    set, other callers (Heroku's ``POST /oauth/tokens``) read more of it."""

    def token_set(self) -> TokenSet:
        """The secrets as a token response shows them."""
        ...


T = TypeVar("T", bound=Issued, covariant=True)


@dataclass(frozen=True, slots=True)
class StoredCode:
    """An authorization code as stored (RFC 6749 section 4.1.2) and the state of the
    authorization it belongs to."""

    id: str
    client_id: str | None
    used: bool
    expires_at: datetime
    redirect_uri: str | None
    code_challenge: str | None
    authorization_active: bool


class CodeStore(Protocol[T]):
    """Storage of the authorization code grant (RFC 6749 section 4.1.3)."""

    def find_code(self, code: str) -> StoredCode | None:
        """The code with this plaintext, locked, or None."""
        ...

    def revoke_code_family(self, code: StoredCode) -> None:
        """A used code came back: revoke every token issued from it (section 4.1.2)."""
        ...

    def redeem(self, code: StoredCode) -> T:
        """Spend the code and issue an access token and a refresh token."""
        ...


@dataclass(frozen=True, slots=True)
class StoredRefresh:
    """A refresh token as stored: its generation, the live generation of its family (the
    authorization), and the family's state."""

    authorization_id: str
    client_id: str | None
    generation: int
    current_generation: int
    rotated_at: datetime | None
    scopes: list[str]
    authorization_active: bool


class RefreshStore(Protocol[T]):
    """Storage of the refresh token grant (RFC 6749 section 6) with rotation."""

    def find_refresh(self, token: str) -> StoredRefresh | None:
        """The refresh token with this plaintext, with its family locked, or None."""
        ...

    def revoke_family(self, refresh: StoredRefresh) -> None:
        """Revoke every token of the family (reuse detected: RFC 9700 section 4.14.2)."""
        ...

    def rotate(self, refresh: StoredRefresh, *, advance: bool) -> T:
        """New access and refresh tokens; ``advance`` spends the presented generation and makes
        the new one live, otherwise the new refresh token is a sibling of the live one."""
        ...


@dataclass(frozen=True, slots=True)
class StoredDevice:
    """A device authorization as stored (RFC 8628 section 3)."""

    id: str
    client_id: str | None
    status: str  # "pending", "approved", "denied" or "consumed"
    expires_at: datetime
    last_polled_at: datetime | None
    interval: int


@dataclass(frozen=True, slots=True)
class StartedDevice:
    """A new device authorization's codes (shown once) and polling terms."""

    device_code: str
    user_code: str
    interval: int
    expires_in: int


@dataclass(frozen=True, slots=True)
class PollOutcome:
    """What one poll decided, and the bookkeeping to store (RFC 8628 section 3.5)."""

    state: str
    status: str
    interval: int
    last_polled_at: datetime | None


class DeviceStore(Protocol[T]):
    """Storage of the device authorization grant (RFC 8628)."""

    def start_device(self, client: Client, scopes: list[str]) -> StartedDevice:
        """Store a new device authorization for the client."""
        ...

    def find_device(self, device_code: str) -> StoredDevice | None:
        """The device authorization with this device code, locked, or None."""
        ...

    def record_poll(self, device: StoredDevice, outcome: PollOutcome) -> None:
        """Keep what a poll decided (status, interval, time of the poll)."""
        ...

    def issue_for_device(self, device: StoredDevice, client: Client) -> T:
        """Tokens for the device its user approved: access and refresh."""
        ...


class ClientCredentialsStore(Protocol[T]):
    """Storage of the client credentials grant (RFC 6749 section 4.4)."""

    def issue_client_credentials(self, client: Client, owner_id: str, scopes: list[str]) -> T:
        """An access token acting for the client's owner, with these scopes."""
        ...


@dataclass(frozen=True, slots=True)
class StoredToken:
    """A token presented for revocation (RFC 7009 section 2.1)."""

    token_type: Literal["access_token", "refresh_token"]
    id: str
    authorization_id: str
    client_id: str | None


class RevocationStore(Protocol):
    """Storage of token revocation (RFC 7009)."""

    def find_revocable(self, token: str) -> StoredToken | None:
        """The refresh or access token with this plaintext, or None."""
        ...

    def revoke(self, token: StoredToken, client: Client) -> None:
        """Revoke it: a refresh token with its whole authorization, an access token alone; and
        what either made (section 2.1)."""
        ...


class TokenFacts(Protocol):
    """What is known about a presented token (RFC 7662 section 2.2)."""

    @property
    def token_type(self) -> str:
        """``Bearer`` or ``refresh_token``."""
        ...

    @property
    def scopes(self) -> list[str]:
        """The scopes of the token's authorization."""
        ...

    @property
    def client_id(self) -> str | None:
        """The client the token was issued to, if any."""
        ...

    @property
    def account_id(self) -> str:
        """The account the token acts for."""
        ...

    @property
    def email(self) -> str:
        """That account's email (the ``username``)."""
        ...

    @property
    def issued_at(self) -> datetime:
        """When the token was issued."""
        ...

    @property
    def expires_at(self) -> datetime | None:
        """When the token expires, if it does."""
        ...

    def active(self, now: datetime) -> bool:
        """Whether the token would be accepted at ``now``."""
        ...


class IntrospectionStore(Protocol):
    """Storage of token introspection (RFC 7662)."""

    def describe(self, token: str) -> TokenFacts | None:
        """What is stored about the token with this plaintext, or None."""
        ...
