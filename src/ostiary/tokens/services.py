"""Issuing, regenerating and revoking tokens. Services add to the session; they never commit."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.errors import NotFound
from ostiary.events import RequestContext, record_event
from ostiary.security.hashing import SecretHasher
from ostiary.security.tokens import TokenKind, display_parts, mint_token
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind

TOKEN_KIND_BY_AUTHORIZATION = {
    AuthorizationKind.API_KEY: TokenKind.API_KEY,
    AuthorizationKind.PERSONAL: TokenKind.AUTHORIZATION,
    AuthorizationKind.OAUTH: TokenKind.OAUTH_ACCESS,
    AuthorizationKind.CLIENT_CREDENTIALS: TokenKind.OAUTH_ACCESS,
}


@dataclass(frozen=True, slots=True)
class IssuedToken:
    """A freshly minted token: its row, and the plaintext that is shown once and never stored."""

    row: AccessToken
    plaintext: str


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
        raise NotFound("authorization")
    return authorization


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
