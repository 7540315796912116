"""Token revocation (RFC 7009; rule R37).

The client authenticates (public clients by client_id). Unknown tokens get 200 as well
(section 2.2). Revoking a refresh token revokes its whole authorization, access tokens included;
revoking an access token revokes that token. A token issued to another client is refused.
"""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.clock import utcnow
from ostiary.events import RequestContext, record_event
from ostiary.oauth2.errors import OAuthError, invalid_request
from ostiary.oauth_clients.records import ClientRecord
from ostiary.security.hashing import SecretHasher
from ostiary.tokens.models import AccessToken, Authorization, RefreshToken
from ostiary.tokens.services import revoke_children

TOKEN_TYPE_HINTS = ("access_token", "refresh_token")


def _own(client: ClientRecord, authorization: Authorization) -> None:
    if authorization.client_id != client.id:
        raise OAuthError("invalid_grant", "This token was not issued to this client.")


def revoke(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    client: ClientRecord,
    form: dict[str, str],
) -> None:
    """Revoke the token in ``form`` if it exists and belongs to the client."""
    token = form.get("token")
    if token is None:
        raise invalid_request("token is required.")
    token_hash = hasher.hash(token)
    refresh = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
    if refresh is not None:
        _own(client, refresh.authorization)
        refresh.authorization.revoked_at = utcnow()
        revoke_children(session, refresh.authorization_id)
        record_event(
            session,
            context,
            "oauth:token:revoke",
            actor_id=refresh.authorization.account_id,
            target_type="authorization",
            target_id=refresh.authorization_id,
            details={"token_type": "refresh_token", "client_id": client.id},
        )
        return
    access = session.scalar(select(AccessToken).where(AccessToken.token_hash == token_hash))
    if access is not None:
        _own(client, access.authorization)
        access.revoked_at = utcnow()
        revoke_children(session, access.authorization_id)
        record_event(
            session,
            context,
            "oauth:token:revoke",
            actor_id=access.authorization.account_id,
            target_type="token",
            target_id=access.id,
            details={"token_type": "access_token", "client_id": client.id},
        )
