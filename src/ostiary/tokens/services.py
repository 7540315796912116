"""Issuing, regenerating, describing and revoking authorizations and their secrets. Services add to
the session; they never commit.

Revoking sets ``revoked_at`` and keeps the row, so that what was revoked can still be named
later; ``ostiary.purge`` deletes revoked rows after ``REVOKED_RETENTION``. Revoking an
authorization revokes its descendants with it (what its tokens made, and so on), which
:func:`revoke_with_descendants` does for every path.
"""

from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import ColumnElement, select, update
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.clock import utcnow
from ostiary.errors import Forbidden
from ostiary.events import RequestContext, record_event
from ostiary.oauth2.protocols import Client
from ostiary.oauth_clients.models import OAuthClient
from ostiary.security.hashing import SecretHasher
from ostiary.security.tokens import TokenKind, display_parts, mint_token
from ostiary.tokens.models import (
    AccessToken,
    Authorization,
    AuthorizationGrant,
    AuthorizationKind,
    RefreshToken,
)
from ostiary.tokens.queries import MAX_LINEAGE
from ostiary.tokens.records import IssuedAuthorization, IssuedGrant, IssuedRefresh, IssuedToken
from ostiary.tokens.rules import OAUTH_CHILD_LIFETIME, TOKEN_KIND_BY_AUTHORIZATION, access_expiry
from ostiary.tokens.scopes import covers


def authorization_event(
    session: Session,
    context: RequestContext,
    action: str,
    authorization: Authorization,
    details: dict[str, object] | None = None,
) -> None:
    """Record an event about an authorization, by its account."""
    record_event(
        session,
        context,
        action,
        actor_id=authorization.account_id,
        target_type="authorization",
        target_id=authorization.id,
        details=details,
    )


def issue_refresh_token(
    session: Session, hasher: SecretHasher, authorization: Authorization
) -> IssuedRefresh:
    """A refresh token of the authorization's current generation."""
    plaintext, stored = mint_stored(hasher, TokenKind.OAUTH_REFRESH)
    row = RefreshToken(
        **stored, authorization_id=authorization.id, generation=authorization.refresh_generation
    )
    session.add(row)
    return IssuedRefresh(row=row, plaintext=plaintext)


def issue_grant(
    session: Session,
    hasher: SecretHasher,
    authorization: Authorization,
    *,
    ttl: int,
    redirect_uri: str | None = None,
    code_challenge: str | None = None,
) -> IssuedGrant:
    """A one-time authorization code for the authorization's client (RFC 6749 section 4.1.2)."""
    code = mint_token(TokenKind.GRANT_CODE)
    row = AuthorizationGrant(
        authorization_id=authorization.id,
        code_hash=hasher.hash(code),
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
        expires_at=utcnow() + timedelta(seconds=ttl),
    )
    session.add(row)
    return IssuedGrant(row=row, code=code)


def create_authorization(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    *,
    account_id: str,
    scopes: list[str],
    description: str,
    expires_in: int | None,
    creator_scopes: frozenset[str],
    client: OAuthClient | None = None,
    login_session_id: str | None = None,
    parent: Authorization | None = None,
    oauth_ttl: int,
    grant_ttl: int,
) -> IssuedAuthorization:
    """Create an authorization no wider than the credential creating it.

    Without a client it is a personal token. With one it is an OAuth grant to that client: a
    short-lived access token, a rotating refresh token, and a code the client can exchange.
    Made with a token, it is the child of that token's authorization (``parent``): it expires
    no later than the parent and is revoked with it.
    """
    if not covers(creator_scopes, scopes):
        raise Forbidden(
            f"Your credential cannot grant {', '.join(scopes)}: "
            "an authorization can have at most the scopes of the token creating it."
        )
    now = utcnow()
    expires_at = now + timedelta(seconds=expires_in) if expires_in else None
    if parent is not None:
        limit = parent.expires_at
        if parent.kind == AuthorizationKind.OAUTH:
            cap = now + timedelta(seconds=OAUTH_CHILD_LIFETIME)
            limit = min(limit, cap) if limit else cap
        if limit is not None:
            expires_at = min(expires_at or limit, limit)
    authorization = Authorization(
        account_id=account_id,
        kind=AuthorizationKind.OAUTH if client else AuthorizationKind.PERSONAL,
        scopes=scopes,
        description=description[:500],
        client_id=client.id if client else None,
        session_id=login_session_id,
        parent_id=parent.id if parent else None,
        expires_at=expires_at,
    )
    session.add(authorization)
    session.flush()
    access = issue_access_token(session, hasher, authorization)
    access.row.expires_at = access_expiry(authorization, oauth_ttl)
    refresh = grant = None
    if client is not None:
        refresh = issue_refresh_token(session, hasher, authorization)
        grant = issue_grant(session, hasher, authorization, ttl=grant_ttl)
    session.flush()
    record_event(
        session,
        context,
        "token:authorization:create",
        actor_id=account_id,
        target_type="authorization",
        target_id=authorization.id,
        details={
            "scope": scopes,
            "client_id": authorization.client_id,
            "parent_id": authorization.parent_id,
        },
    )
    return IssuedAuthorization(authorization, access, refresh, grant)


def grant_code(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    *,
    account_id: str,
    client: Client,
    scopes: list[str],
    redirect_uri: str | None,
    code_challenge: str | None,
    grant_ttl: int,
) -> IssuedGrant:
    """A user's consent at the authorization endpoint: a new authorization (its own refresh
    family) holding only a code; tokens come from exchanging it (RFC 6749 section 4.1.2)."""
    authorization = Authorization(
        account_id=account_id,
        kind=AuthorizationKind.OAUTH,
        scopes=scopes,
        description=f"Authorized {client.name}",
        client_id=client.id,
    )
    session.add(authorization)
    session.flush()
    grant = issue_grant(
        session,
        hasher,
        authorization,
        ttl=grant_ttl,
        redirect_uri=redirect_uri,
        code_challenge=code_challenge,
    )
    session.flush()
    record_event(
        session,
        context,
        "oauth:consent:grant",
        actor_id=account_id,
        target_type="authorization",
        target_id=authorization.id,
        details={"client_id": client.id, "scope": scopes},
    )
    return grant


def revoke_children(session: Session, authorization_id: str) -> int:
    """Revoke what the authorization's tokens made, with their own descendants; how many
    children (the first generation) were live."""
    return revoke_with_descendants(session, Authorization.parent_id == authorization_id)


def describe(
    session: Session, context: RequestContext, authorization: Authorization, description: str
) -> Authorization:
    """Change an authorization's description."""
    authorization.description = description[:500]
    authorization.updated_at = utcnow()
    authorization_event(session, context, "token:authorization:update", authorization)
    return authorization


def revoke_with_descendants(
    session: Session, *criteria: ColumnElement[bool], now: datetime | None = None
) -> int:
    """Revoke every live authorization matching the criteria and all their live descendants
    (children by ``parent_id``, theirs, and so on); how many matched the criteria.

    Rows are kept with ``revoked_at`` set. The authenticator checks only a token's own
    authorization, so each descendant is marked itself: one generation per round, at most
    :data:`~ostiary.tokens.queries.MAX_LINEAGE` rounds, in plain SELECT and UPDATE that SQLite
    and PostgreSQL run alike. A revoked authorization has no live descendant (every path
    revokes through here), so the walk stops at rows already revoked.
    """
    now = now or utcnow()
    live = Authorization.revoked_at.is_(None)
    generation = list(session.scalars(select(Authorization.id).where(*criteria, live)))
    matched = len(generation)
    for _ in range(MAX_LINEAGE):
        if not generation:
            break
        session.execute(
            update(Authorization)
            .where(Authorization.id.in_(generation), live)
            .values(revoked_at=now)
        )
        generation = list(
            session.scalars(
                select(Authorization.id).where(Authorization.parent_id.in_(generation), live)
            )
        )
    return matched


def revoke(session: Session, context: RequestContext, authorization: Authorization) -> None:
    """Revoke an authorization and its descendants: every token of theirs fails at commit, and
    the rows stay (with ``revoked_at``) until the purge's retention has passed."""
    revoke_with_descendants(session, Authorization.id == authorization.id)
    authorization_event(session, context, "token:authorization:revoke", authorization)


def regenerate(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    authorization: Authorization,
    *,
    oauth_ttl: int,
) -> IssuedAuthorization:
    """New tokens with the same scopes, description and lifetime policy; old ones die at commit,
    and so does every authorization the old tokens created (its children, and theirs)."""
    now = utcnow()
    revoke_access_tokens(session, authorization, now)
    children = revoke_children(session, authorization.id)
    access = issue_access_token(session, hasher, authorization)
    access.row.expires_at = access_expiry(authorization, oauth_ttl)
    refresh = None
    if authorization.kind == AuthorizationKind.OAUTH:
        authorization.refresh_generation += 1
        refresh = issue_refresh_token(session, hasher, authorization)
    authorization.updated_at = now
    session.flush()
    kind = "api-key" if authorization.kind == AuthorizationKind.API_KEY else "authorization"
    authorization_event(
        session,
        context,
        f"token:{kind}:regenerate",
        authorization,
        {"children_revoked": children},
    )
    return IssuedAuthorization(authorization, access, refresh)


def mint_stored(hasher: SecretHasher, kind: TokenKind) -> tuple[str, dict[str, str]]:
    """A new token's plaintext, and the columns that store it (``HashedToken``)."""
    plaintext = mint_token(kind)
    head, tail = display_parts(plaintext)
    return plaintext, {
        "token_hash": hasher.hash(plaintext),
        "display_head": head,
        "display_tail": tail,
    }


def issue_access_token(
    session: Session, hasher: SecretHasher, authorization: Authorization
) -> IssuedToken:
    """Mint a new access token for an authorization; only its keyed hash is stored."""
    kind = TOKEN_KIND_BY_AUTHORIZATION[AuthorizationKind(authorization.kind)]
    plaintext, stored = mint_stored(hasher, kind)
    if authorization.id is None:
        session.flush()  # the id is assigned at insert
    # Set the key, not the collection: appending would load every token the authorization ever
    # had (a client-credentials authorization gathers thousands).
    row = AccessToken(
        **stored, authorization_id=authorization.id, expires_at=authorization.expires_at
    )
    session.add(row)
    return IssuedToken(row=row, plaintext=plaintext)


def create_api_key(
    session: Session, hasher: SecretHasher, account: Account, context: RequestContext
) -> IssuedToken:
    """Give an account its API key: a global authorization that never expires."""
    authorization = Authorization(
        account=account,
        kind=AuthorizationKind.API_KEY,
        scopes=["global"],
        description="API key",
    )
    session.add(authorization)
    issued = issue_access_token(session, hasher, authorization)
    session.flush()
    record_event(
        session,
        context,
        "token:api-key:create",
        actor_id=account.id,
        target_type="authorization",
        target_id=authorization.id,
    )
    return issued


def revoke_access_tokens(session: Session, authorization: Authorization, now: datetime) -> None:
    """Revoke every live access token of an authorization, effective for the next request."""
    session.execute(
        update(AccessToken)
        .where(
            AccessToken.authorization_id == authorization.id,
            AccessToken.revoked_at.is_(None),
        )
        .values(revoked_at=now)
    )
