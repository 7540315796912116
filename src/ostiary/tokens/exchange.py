"""Exchanging a grant code or a refresh token for new tokens (RFC 6749 sections 4.1.3 and 6).

- A code works once, within its lifetime, for its own client (RFC 6749 section 4.1.2). A second
  use revokes the tokens issued from it (RFC 6749 section 4.1.2; rule R11).
- Refresh tokens rotate on every use: the authorization's ``refresh_generation`` names the one
  live token. Presenting an older generation means a copy leaked, so the whole family (the
  authorization) is revoked (RFC 9700 section 4.14.2; rule R16).
- A code is bound to its client, its redirect URI and its PKCE challenge (RFC 7636 section
  4.6; rules R8, R10): a verifier is required exactly when a challenge was given.
- A refresh never widens scope (RFC 6749 section 6; R17) and works only for its client (R19).
- Two refreshes of one token at once must not log a legitimate client out (R16): the immediate
  predecessor of the live generation is accepted for ``REFRESH_GRACE`` after its rotation, and
  answered with a sibling of the live generation instead of a new one. Which token is the
  predecessor is decided by the generation counter under the authorization's row lock.
- The rows involved are locked (``FOR UPDATE``; ``BEGIN IMMEDIATE`` on SQLite), so two
  concurrent uses of one code or refresh token are decided one after the other.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.clock import utcnow
from ostiary.errors import Forbidden, GrantReuse, InvalidGrant, Unauthorized
from ostiary.events import Audit, RequestContext
from ostiary.oauth2 import rfc7636
from ostiary.oauth_clients.models import OAuthClient
from ostiary.oauth_clients.queries import find_client_record
from ostiary.oauth_clients.records import ClientRecord
from ostiary.oauth_clients.rules import verify_client_secret
from ostiary.security.hashing import SecretHasher
from ostiary.tokens.models import Authorization, AuthorizationGrant, AuthorizationKind, RefreshToken
from ostiary.tokens.records import IssuedAuthorization
from ostiary.tokens.rules import access_expiry
from ostiary.tokens.scopes import parse_scopes
from ostiary.tokens.services import (
    authorization_event,
    issue_access_token,
    issue_refresh_token,
    revoke_children,
)

REFRESH_GRACE = timedelta(seconds=30)


def _authenticate_client(
    session: Session,
    hasher: SecretHasher,
    client: OAuthClient | None,
    secret: str | None,
    authenticated: ClientRecord | None = None,
) -> OAuthClient:
    """The grant's client: the already ``authenticated`` one (which must be it), or the one
    whose secret was sent."""
    if client is None:
        raise InvalidGrant("This grant was not issued to an OAuth client.")
    if authenticated is not None:
        if authenticated.id != client.id:
            raise InvalidGrant("This grant was issued to another client.")
        return client
    if not client.is_public and not verify_client_secret(
        hasher, find_client_record(session, client.id), secret
    ):
        raise Unauthorized(
            "Invalid client credentials.",
            audit=Audit("oauth:client:auth-failure", target_type="client", target_id=client.id),
        )
    return client


def _revoke_family(
    session: Session, context: RequestContext, authorization: Authorization, action: str
) -> None:
    authorization.revoked_at = utcnow()
    revoke_children(session, authorization.id)
    authorization_event(session, context, action, authorization)


def _issue(
    session: Session,
    hasher: SecretHasher,
    authorization: Authorization,
    oauth_ttl: int,
    *,
    rotate: bool = True,
) -> IssuedAuthorization:
    if rotate:
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


def _check_binding(
    grant: AuthorizationGrant, code_verifier: str | None, redirect_uri: str | None
) -> None:
    if grant.code_challenge is not None:
        if code_verifier is None or not rfc7636.verify(code_verifier, grant.code_challenge):
            raise InvalidGrant("The code_verifier does not match the code_challenge.")
    elif code_verifier is not None:
        raise InvalidGrant("This code was issued without a code_challenge; send no verifier.")
    if grant.redirect_uri is not None and redirect_uri != grant.redirect_uri:
        raise InvalidGrant("redirect_uri must be the one the code was issued for.")


def exchange_code(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    *,
    code: str,
    client_secret: str | None = None,
    client: ClientRecord | None = None,
    code_verifier: str | None = None,
    redirect_uri: str | None = None,
    oauth_ttl: int,
) -> IssuedAuthorization:
    """New access and refresh tokens for a grant code, which is used up.

    The client is either already authenticated (``client``, the RFC 6749 token endpoint) or
    authenticated here by ``client_secret`` (Heroku's ``POST /oauth/tokens``).
    """
    grant = session.scalar(
        select(AuthorizationGrant)
        .where(AuthorizationGrant.code_hash == hasher.hash(code))
        .with_for_update(of=AuthorizationGrant)
    )
    if grant is None:
        raise InvalidGrant("The grant code is invalid.")
    authorization = grant.authorization
    _authenticate_client(session, hasher, authorization.client, client_secret, client)
    if grant.used_at is not None:
        _revoke_family(session, context, authorization, "oauth:grant:replay")
        raise GrantReuse("The grant code was already used; its tokens have been revoked.")
    if grant.expires_at <= utcnow():
        raise InvalidGrant("The grant code has expired.")
    _check_binding(grant, code_verifier, redirect_uri)
    _usable(authorization)
    grant.used_at = utcnow()
    issued = _issue(session, hasher, authorization, oauth_ttl)
    authorization_event(session, context, "oauth:token:issue", authorization, {"grant": "code"})
    return issued


def refresh(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    *,
    refresh_token: str,
    client_secret: str | None = None,
    client: ClientRecord | None = None,
    scope: str | None = None,
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
    _authenticate_client(session, hasher, authorization.client, client_secret, client)
    _usable(authorization)
    if scope is not None and not set(parse_scopes(scope)) <= set(authorization.scopes):
        raise Forbidden("A refresh cannot widen the authorization's scope.")
    now = utcnow()
    current = row.generation == authorization.refresh_generation
    predecessor = (
        row.generation == authorization.refresh_generation - 1
        and row.rotated_at is not None
        and now - row.rotated_at <= REFRESH_GRACE
    )
    if not current and not predecessor:
        _revoke_family(session, context, authorization, "oauth:refresh:reuse-detected")
        raise GrantReuse(
            "The refresh token was already used; every token of this authorization was revoked."
        )
    if current:
        row.rotated_at = now
    # A predecessor within the grace window gets a sibling of the live generation, so neither
    # of two concurrent refreshes leaves the other holding a stale token.
    issued = _issue(session, hasher, authorization, oauth_ttl, rotate=current)
    authorization_event(session, context, "oauth:token:refresh", authorization)
    return issued


def issue_for_device(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    *,
    client: ClientRecord,
    account_id: str,
    scopes: list[str],
    oauth_ttl: int,
) -> IssuedAuthorization:
    """A new OAuth authorization for a device its user approved, with an access token."""
    authorization = Authorization(
        account_id=account_id,
        kind=AuthorizationKind.OAUTH,
        scopes=scopes,
        description=f"Authorized {client.name} (device)",
        client_id=client.id,
    )
    session.add(authorization)
    session.flush()
    return _issue_access(session, hasher, context, authorization, "device_code", oauth_ttl)


def _issue_access(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    authorization: Authorization,
    grant: str,
    oauth_ttl: int,
) -> IssuedAuthorization:
    """A short-lived access token for an OAuth authorization, recorded as issued."""
    access = issue_access_token(session, hasher, authorization)
    access.row.expires_at = utcnow() + timedelta(seconds=oauth_ttl)
    session.flush()
    authorization_event(
        session,
        context,
        "oauth:token:issue",
        authorization,
        {"grant": grant, "client_id": authorization.client_id},
    )
    return IssuedAuthorization(authorization, access)
