"""Token introspection (RFC 7662; rule R38).

Only an authenticated confidential client may ask, and it learns about tokens issued to it or to
its owner's account; for anything else, and for every inactive token, the answer is
``{"active": false}`` (section 2.2).
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.clients.models import OAuthClient
from ostiary.clock import utcnow
from ostiary.oauth2.errors import invalid_request
from ostiary.security.hashing import SecretHasher
from ostiary.tokens.models import AccessToken, Authorization, RefreshToken

INACTIVE: dict[str, object] = {"active": False}


def _timestamp(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def _visible(client: OAuthClient, authorization: Authorization) -> bool:
    return authorization.client_id == client.id or authorization.account_id == client.owner_id


def introspect(
    session: Session, hasher: SecretHasher, client: OAuthClient, form: dict[str, str]
) -> dict[str, object]:
    """What the client may know about the token in ``form``."""
    token = form.get("token")
    if token is None:
        raise invalid_request("token is required.")
    token_hash = hasher.hash(token)
    now = utcnow()
    access = session.scalar(select(AccessToken).where(AccessToken.token_hash == token_hash))
    if access is not None:
        authorization = access.authorization
        live = access.revoked_at is None and (access.expires_at is None or access.expires_at > now)
        token_type, issued_at, expires_at = "Bearer", access.created_at, access.expires_at
    else:
        refresh = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
        if refresh is None:
            return INACTIVE
        authorization = refresh.authorization
        live = refresh.generation == authorization.refresh_generation
        token_type, issued_at, expires_at = (
            "refresh_token",
            refresh.created_at,
            authorization.expires_at,
        )
    if not live or not authorization.is_active(now) or not _visible(client, authorization):
        return INACTIVE
    return {
        "active": True,
        "scope": " ".join(authorization.scopes),
        "client_id": authorization.client_id,
        "username": authorization.account.email,
        "sub": authorization.account_id,
        "exp": _timestamp(expires_at),
        "iat": _timestamp(issued_at),
        "token_type": token_type,
    }
