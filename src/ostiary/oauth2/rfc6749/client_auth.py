"""Client authentication (RFC 6749 section 2.3; rule R22).

At the token, revocation and introspection endpoints: ``client_secret_basic`` and
``client_secret_post`` for confidential clients, ``none`` (client_id only) for public ones.
Failures are throttled per client and address (R23).

A grant presented at the token endpoint must also be the authenticated client's
(:class:`AuthenticatedClient`); Heroku's ``POST /oauth/tokens`` instead sends the client's secret
beside the grant, and the grant names the client (:class:`ClientSecretBeside`).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Generic, Protocol

from ostiary.errors import Audit, InvalidGrant, Unauthorized
from ostiary.oauth2.errors import invalid_client
from ostiary.oauth2.protocols import C, Client, ClientStore
from ostiary.oauth2.requests import ClientCredentials
from ostiary.security.throttle import FailureThrottle

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


def authenticate_client(
    clients: ClientStore[C],
    throttle: FailureThrottle,
    ip: str | None,
    credentials: ClientCredentials,
    *,
    allow_public: bool = True,
) -> C:
    """The client the credentials prove, or Unauthorized (rendered as ``invalid_client``)."""
    if not credentials.client_id:
        raise invalid_client("client_id is required.", basic=credentials.method.endswith("basic"))
    with throttle.guard(f"client:{credentials.client_id}", ip):
        client = clients.find_client(credentials.client_id)
        if client is None:
            raise _failure("unknown client", None)
        if client.is_public:
            if credentials.method != "none":
                raise _failure("a public client sent a secret", client.id)
            if not allow_public:
                raise _failure("a public client cannot use this endpoint", client.id)
            return client
        if credentials.method == "none" or not clients.secret_matches(
            client, credentials.client_secret
        ):
            raise _failure("wrong or missing secret", client.id)
        return client


def _failure(reason: str, client_id: str | None) -> Unauthorized:
    return Unauthorized(
        "Client authentication failed.",
        audit=Audit(
            "oauth:client:auth-failure",
            target_type="client" if client_id else None,
            target_id=client_id,
            details={"reason": reason},
        ),
    )


class GrantClient(Protocol):
    """Confirms that a grant (a code, a refresh token) belongs to the client presenting it."""

    def confirm(self, client_id: str | None) -> None:
        """Raise unless the grant issued to ``client_id`` may be used by this request."""
        ...


def _issued_to_a_client(client_id: str | None) -> str:
    if client_id is None:
        raise InvalidGrant("This grant was not issued to an OAuth client.")
    return client_id


@dataclass(frozen=True, slots=True)
class AuthenticatedClient:
    """The token endpoint's client, already authenticated: the grant must be its own (RFC 6749
    sections 4.1.3 and 6; rules R10, R19)."""

    client: Client

    def confirm(self, client_id: str | None) -> None:
        """Refuse a grant issued to another client."""
        if _issued_to_a_client(client_id) != self.client.id:
            raise InvalidGrant("This grant was issued to another client.")


@dataclass(frozen=True, slots=True)
class ClientSecretBeside(Generic[C]):
    """Heroku's ``POST /oauth/tokens``: the grant names its client and the request carries that
    client's secret (none for a public client)."""

    clients: ClientStore[C]
    secret: str | None

    def confirm(self, client_id: str | None) -> None:
        """Refuse unless the secret is the grant's client's (constant time)."""
        client = self.clients.find_client(_issued_to_a_client(client_id))
        if client is None:
            raise InvalidGrant("This grant was not issued to an OAuth client.")
        if not client.is_public and not self.clients.secret_matches(client, self.secret):
            raise Unauthorized(
                "Invalid client credentials.",
                audit=Audit("oauth:client:auth-failure", target_type="client", target_id=client.id),
            )
