"""Registering, changing, rotating and deleting OAuth clients. Services take the request's
:class:`~ostiary.unit.Unit` and never commit."""

from __future__ import annotations

from dataclasses import dataclass

from ostiary.oauth2.redirect_uris import validate_redirect_uris
from ostiary.oauth_clients.errors import PublicClientRefused
from ostiary.oauth_clients.models import ClientType, OAuthClient
from ostiary.oauth_clients.rules import (
    checked_client_credentials_scopes,
    checked_description,
    checked_name,
)
from ostiary.security.grace import grace_end
from ostiary.security.tokens import TokenKind, mint_token
from ostiary.unit import Unit


@dataclass(frozen=True, slots=True)
class RegisteredClient:
    """A client and, for a confidential one, its secret in plaintext: shown once."""

    client: OAuthClient
    secret: str | None


def register_client(
    unit: Unit,
    *,
    owner_id: str,
    name: str,
    redirect_uris: list[str],
    client_type: ClientType,
    client_credentials_scopes: object,
    creator_scopes: frozenset[str],
    description: str = "",
) -> RegisteredClient:
    """Register a client; a confidential one gets a secret, shown in this answer only."""
    secret = None if client_type == ClientType.PUBLIC else mint_token(TokenKind.CLIENT_SECRET)
    if client_type == ClientType.PUBLIC and client_credentials_scopes is not None:
        raise PublicClientRefused(
            "client_credentials_scopes", "A public client cannot use the client-credentials grant."
        )
    client = OAuthClient(
        owner_id=owner_id,
        name=checked_name(name),
        description=checked_description(description),
        redirect_uris=validate_redirect_uris(redirect_uris),
        client_type=client_type,
        secret_hash=unit.hasher.hash(secret) if secret else None,
        client_credentials_scopes=checked_client_credentials_scopes(
            client_credentials_scopes, creator_scopes
        ),
    )
    unit.session.add(client)
    unit.session.flush()
    unit.record(
        "oauth:client:create",
        actor_id=owner_id,
        target_type="client",
        target_id=client.id,
    )
    return RegisteredClient(client=client, secret=secret)


def update_client(
    unit: Unit,
    client: OAuthClient,
    *,
    actor_id: str,
    name: str | None = None,
    description: str | None = None,
    redirect_uris: list[str] | None = None,
    client_credentials_scopes: object = ...,
    creator_scopes: frozenset[str] = frozenset(),
) -> OAuthClient:
    """Rename a client, describe it, replace its redirect URIs or client-credentials scopes."""
    if name is not None:
        client.name = checked_name(name)
    if description is not None:
        client.description = checked_description(description)
    if redirect_uris is not None:
        client.redirect_uris = validate_redirect_uris(redirect_uris)
    if client_credentials_scopes is not ...:
        if client.is_public and client_credentials_scopes is not None:
            raise PublicClientRefused(
                "client_credentials_scopes",
                "A public client cannot use the client-credentials grant.",
            )
        client.client_credentials_scopes = checked_client_credentials_scopes(
            client_credentials_scopes, creator_scopes
        )
    client.updated_at = unit.now()
    unit.record(
        "oauth:client:update",
        actor_id=actor_id,
        target_type="client",
        target_id=client.id,
    )
    return client


def rotate_secret(unit: Unit, client: OAuthClient, *, actor_id: str, grace_period: int = 0) -> str:
    """Give a confidential client a new secret. Without a grace the old one stops working at
    commit; with one (seconds, ``security.grace.parse_grace_period``) the old one, kept only as
    its keyed hash, also authenticates the client until the grace ends. A secret replaced
    during an earlier grace ends at once: at most two secrets work at a time. A secret a leak
    report retired (``leaks.services``) has no grace to get: it authenticates nothing already."""
    if client.is_public:
        raise PublicClientRefused("client", "A public client has no secret to rotate.")
    secret = mint_token(TokenKind.CLIENT_SECRET)
    now = unit.now()
    if client.secret_hash is None:
        # The retired secret's hash stays the previous one, its grace over: a later report of
        # it is still known to be dead.
        grace_period = 0
    elif grace_period > 0:
        client.previous_secret_hash = client.secret_hash
        client.previous_secret_expires_at = grace_end(now, grace_period, None)
    else:
        client.previous_secret_hash = None
        client.previous_secret_expires_at = None
    client.secret_hash = unit.hasher.hash(secret)
    client.updated_at = now
    unit.record(
        "oauth:client:rotate",
        actor_id=actor_id,
        target_type="client",
        target_id=client.id,
        details={"grace_period": grace_period} if grace_period else None,
    )
    return secret


def retire_secret(unit: Unit, client: OAuthClient, *, previous: bool) -> None:
    """End a confidential client's secret reported exposed, at commit: the previous one (a
    rotation's grace) ends its grace and the current one keeps working; the current one is
    retired, and no secret authenticates the client until its owner rotates it (the
    previous one ends with it). A retired secret's hash is kept as the previous one, its grace
    over, so that a later report of it is known to be dead."""
    now = unit.now()
    if not previous:
        client.previous_secret_hash = client.secret_hash
        client.secret_hash = None
    client.previous_secret_expires_at = now
    client.updated_at = now
