"""Reading authorizations and their tokens: an account's list, one by id, the API key, the caller's
own (locked), lineage, consent, live tokens, one live access token, the grants to OAuth clients.
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ostiary.clock import utcnow
from ostiary.errors import Unauthorized
from ostiary.oauth_clients.models import OAuthClient
from ostiary.tokens.errors import AuthorizationNotFound, CredentialNotAllowed, TokenNotFound
from ostiary.tokens.models import (
    AccessToken,
    Authorization,
    AuthorizationKind,
    RefreshToken,
)
from ostiary.tokens.records import ClientGrant, LiveTokens

MAX_LINEAGE = 32


def consented(session: Session, account_id: str, client_id: str, scopes: list[str]) -> bool:
    """Whether the account already granted this client these scopes, with a grant still live.

    Revoking the client's authorizations (or the client) withdraws the consent with them.
    """
    live = session.scalars(
        select(Authorization).where(
            Authorization.account_id == account_id,
            Authorization.client_id == client_id,
            Authorization.kind == AuthorizationKind.OAUTH,
            Authorization.revoked_at.is_(None),
            # Only what the user approved in a browser counts: an authorization made through
            # the API (with a token or a password login) for a client implies no consent.
            Authorization.parent_id.is_(None),
            Authorization.session_id.is_(None),
        )
    ).all()
    now = utcnow()
    return any(a.is_active(now) and set(scopes) <= set(a.scopes) for a in live)


def authorizations_of(account_id: str) -> Select[Authorization]:
    """The account's authorizations except its API key, expired ones included, revoked not."""
    return select(Authorization).where(
        Authorization.account_id == account_id,
        Authorization.kind != AuthorizationKind.API_KEY,
        Authorization.revoked_at.is_(None),
    )


def find_authorization(
    session: Session, account_id: str, authorization_id: str, *, for_update: bool = False
) -> Authorization:
    """One of the account's authorizations (not the API key: that is ``~``)."""
    query = authorizations_of(account_id).where(Authorization.id == authorization_id)
    if for_update:
        query = query.with_for_update(of=Authorization)
    authorization = session.scalar(query)
    if authorization is None:
        raise AuthorizationNotFound()
    return authorization


RETIRING_MESSAGE = (
    "This token was replaced by a rotation and works only until its grace period ends: it "
    "cannot create, regenerate or rotate credentials. Use the new token."
)


def find_parent(
    session: Session, authorization_id: str, access_token_id: str | None
) -> Authorization:
    """The authorization of the token making a request, locked so that it cannot be revoked
    while a child is being made for it; and the token checked again under that lock, since it
    was authenticated before this transaction began (a regeneration may have revoked it since)."""
    parent = session.scalar(
        select(Authorization)
        .where(Authorization.id == authorization_id)
        .with_for_update(of=Authorization)
    )
    now = utcnow()
    token = session.get(AccessToken, access_token_id) if access_token_id else None
    if (
        parent is None
        # Revoked while this request waited for the lock: revoking keeps the row.
        or parent.revoked_at is not None
        # Suspended while this request waited: a suspended credential makes nothing (its
        # descendants are suspended with it, alerts.services, and a child made now would not be).
        or parent.suspended_at is not None
        or token is None
        or token.authorization_id != parent.id
        or not token.is_active(now)
    ):
        raise Unauthorized("Invalid credentials provided.")
    if token.retiring_at is not None:
        # A token in a rotation's grace only works until the grace ends: what it made or
        # regenerated would outlive it (tokens.rotation).
        raise CredentialNotAllowed(RETIRING_MESSAGE)
    return parent


def descends_from(session: Session, authorization: Authorization, ancestor_id: str) -> bool:
    """Whether ``authorization`` is ``ancestor_id`` or was made, through its parents, by it."""
    current: Authorization | None = authorization
    for _ in range(MAX_LINEAGE):
        if current is None:
            return False
        if current.id == ancestor_id:
            return True
        current = session.get(Authorization, current.parent_id) if current.parent_id else None
    return False


def live_tokens(session: Session, authorizations: Sequence[Authorization]) -> dict[str, LiveTokens]:
    """The live tokens of several authorizations, in two queries whatever their number."""
    ids = [authorization.id for authorization in authorizations]
    # The newest live access token of each: one entry of the (authorization_id, created_at)
    # index apiece, however many tokens it holds (a client-credentials authorization holds
    # every token it ever issued: ranking them all grew with it, docs/architecture.md).
    newest = (
        select(AccessToken.id)
        .where(
            AccessToken.authorization_id == Authorization.id,
            AccessToken.revoked_at.is_(None),
            AccessToken.retiring_at.is_(None),  # replaced, in its grace (tokens.rotation)
        )
        .order_by(AccessToken.created_at.desc())
        .limit(1)
        .correlate(Authorization)
        .scalar_subquery()
    )
    newest_ids = select(newest).select_from(Authorization).where(Authorization.id.in_(ids))
    access = {
        token.authorization_id: token
        for token in session.scalars(select(AccessToken).where(AccessToken.id.in_(newest_ids)))
    }
    refresh = {
        token.authorization_id: token
        for token in session.scalars(
            select(RefreshToken)
            .join(Authorization, RefreshToken.authorization_id == Authorization.id)
            .where(
                RefreshToken.authorization_id.in_(ids),
                RefreshToken.generation == Authorization.refresh_generation,
            )
        )
    }
    return {i: LiveTokens(access.get(i), refresh.get(i)) for i in ids}


def api_key_of(session: Session, account_id: str, *, for_update: bool = False) -> Authorization:
    """The account's API key authorization (the one addressed as ``~``)."""
    query = select(Authorization).where(
        Authorization.account_id == account_id,
        Authorization.kind == AuthorizationKind.API_KEY,
        Authorization.revoked_at.is_(None),
    )
    if for_update:
        query = query.with_for_update(of=Authorization)
    authorization = session.scalar(query)
    if authorization is None:
        raise AuthorizationNotFound()
    return authorization


def find_live_access_token(session: Session, account_id: str, token_id: str) -> AccessToken:
    """One of the account's access tokens that is not revoked yet."""
    token = session.scalar(
        select(AccessToken)
        .join(Authorization, AccessToken.authorization_id == Authorization.id)
        .where(
            AccessToken.id == token_id,
            Authorization.account_id == account_id,
            Authorization.revoked_at.is_(None),
            AccessToken.revoked_at.is_(None),
        )
    )
    if token is None:
        raise TokenNotFound()
    return token


def client_grants(session: Session, account_id: str) -> list[ClientGrant]:
    """What the account granted each OAuth client (its authorizations together: the union of
    their scopes, the first grant, the last use), by client name."""
    rows = session.execute(
        select(Authorization, OAuthClient.name)
        .join(OAuthClient, Authorization.client_id == OAuthClient.id)
        .where(
            Authorization.account_id == account_id,
            Authorization.kind == AuthorizationKind.OAUTH,
            Authorization.revoked_at.is_(None),
        )
    ).all()
    by_client: dict[str, list[tuple[Authorization, str]]] = defaultdict(list)
    for authorization, name in rows:
        by_client[authorization.client_id or ""].append((authorization, name))
    grants = []
    for client_id, items in by_client.items():
        used = [a.last_used_at for a, _ in items if a.last_used_at is not None]
        grants.append(
            ClientGrant(
                client_id=client_id,
                client_name=items[0][1],
                scopes=sorted({scope for a, _ in items for scope in a.scopes}),
                granted_at=min(a.created_at for a, _ in items),
                last_used_at=max(used) if used else None,
            )
        )
    return sorted(grants, key=lambda grant: grant.client_name.lower())
