"""Exchanging a grant code or a refresh token for new tokens (RFC 6749 sections 4.1.3 and 6).

- A code works once, within its lifetime, for its own client (RFC 6749 section 4.1.2). A second
  use revokes the tokens issued from it (RFC 6749 section 4.1.2; rule R11).
- Refresh tokens rotate on every use: the authorization's ``refresh_generation`` names the one
  live token. Presenting an older generation means a copy leaked, so the whole family (the
  authorization) is revoked (RFC 9700 section 4.14.2; rule R16).
- The rows involved are locked (``FOR UPDATE``; ``BEGIN IMMEDIATE`` on SQLite), so two
  concurrent uses of one code or refresh token are decided one after the other.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.clients.models import OAuthClient
from ostiary.clients.services import verify_client_secret
from ostiary.clock import utcnow
from ostiary.errors import GrantReuse, InvalidGrant, Unauthorized
from ostiary.events import Audit, RequestContext, record_event
from ostiary.security.hashing import SecretHasher
from ostiary.tokens.authorizations import (
    IssuedAuthorization,
    access_expiry,
    issue_refresh_token,
)
from ostiary.tokens.models import Authorization, AuthorizationGrant, RefreshToken
from ostiary.tokens.services import issue_access_token


def _authenticate_client(
    hasher: SecretHasher, client: OAuthClient | None, secret: str | None
) -> OAuthClient:
    if client is None:
        raise InvalidGrant("This grant was not issued to an OAuth client.")
    if not client.is_public and not verify_client_secret(hasher, client, secret):
        raise Unauthorized(
            "Invalid client credentials.",
            audit=Audit("oauth:client:auth-failure", target_type="client", target_id=client.id),
        )
    return client


def _revoke_family(
    session: Session, context: RequestContext, authorization: Authorization, action: str
) -> None:
    authorization.revoked_at = utcnow()
    record_event(
        session,
        context,
        action,
        actor_id=authorization.account_id,
        target_type="authorization",
        target_id=authorization.id,
    )


def _issue(
    session: Session, hasher: SecretHasher, authorization: Authorization, oauth_ttl: int
) -> IssuedAuthorization:
    authorization.refresh_generation += 1
    access = issue_access_token(session, hasher, authorization)
    access.row.expires_at = access_expiry(authorization, oauth_ttl)
    refresh = issue_refresh_token(session, hasher, authorization)
    authorization.updated_at = utcnow()
    session.flush()
    return IssuedAuthorization(authorization, access, refresh)


def _usable(authorization: Authorization) -> Authorization:
    if not authorization.is_active(utcnow()):
        raise InvalidGrant("This authorization was revoked or has expired.")
    return authorization


def exchange_code(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    *,
    code: str,
    client_secret: str | None,
    oauth_ttl: int,
) -> IssuedAuthorization:
    """New access and refresh tokens for a grant code, which is used up."""
    grant = session.scalar(
        select(AuthorizationGrant)
        .where(AuthorizationGrant.code_hash == hasher.hash(code))
        .with_for_update(of=AuthorizationGrant)
    )
    if grant is None:
        raise InvalidGrant("The grant code is invalid.")
    authorization = grant.authorization
    _authenticate_client(hasher, authorization.client, client_secret)
    if grant.used_at is not None:
        _revoke_family(session, context, authorization, "oauth:grant:replay")
        raise GrantReuse("The grant code was already used; its tokens have been revoked.")
    if grant.expires_at <= utcnow():
        raise InvalidGrant("The grant code has expired.")
    _usable(authorization)
    grant.used_at = utcnow()
    issued = _issue(session, hasher, authorization, oauth_ttl)
    record_event(
        session,
        context,
        "oauth:token:issue",
        actor_id=authorization.account_id,
        target_type="authorization",
        target_id=authorization.id,
        details={"grant": "code"},
    )
    return issued


def refresh(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    *,
    refresh_token: str,
    client_secret: str | None,
    oauth_ttl: int,
) -> IssuedAuthorization:
    """Rotate a refresh token: new access and refresh tokens; the presented one is spent."""
    row = session.scalar(
        select(RefreshToken)
        .where(RefreshToken.token_hash == hasher.hash(refresh_token))
        .with_for_update(of=RefreshToken)
    )
    if row is None:
        raise InvalidGrant("The refresh token is invalid.")
    authorization = session.scalar(
        select(Authorization)
        .where(Authorization.id == row.authorization_id)
        .with_for_update(of=Authorization)
    )
    assert authorization is not None
    _authenticate_client(hasher, authorization.client, client_secret)
    _usable(authorization)
    if row.generation != authorization.refresh_generation:
        _revoke_family(session, context, authorization, "oauth:refresh:reuse-detected")
        raise GrantReuse(
            "The refresh token was already used; every token of this authorization was revoked."
        )
    row.rotated_at = utcnow()
    issued = _issue(session, hasher, authorization, oauth_ttl)
    record_event(
        session,
        context,
        "oauth:token:refresh",
        actor_id=authorization.account_id,
        target_type="authorization",
        target_id=authorization.id,
    )
    return issued
