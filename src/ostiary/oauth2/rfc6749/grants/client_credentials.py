"""The client credentials grant (RFC 6749 section 4.4): confidential clients only, within the
scopes the client was allowed at registration, and no refresh token."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ostiary.clients.models import OAuthClient
from ostiary.events import RequestContext
from ostiary.oauth2.errors import OAuthError
from ostiary.security.hashing import SecretHasher
from ostiary.tokens.authorizations import IssuedAuthorization
from ostiary.tokens.exchange import client_credentials_token

GRANT_TYPE = "client_credentials"


def grant(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    client: OAuthClient,
    form: dict[str, str],
    access_ttl: int,
) -> IssuedAuthorization:
    """An access token acting for the client's owner."""
    if client.is_public:
        raise OAuthError("unauthorized_client", "A public client cannot use client_credentials.")
    return client_credentials_token(
        session, hasher, context, client=client, scope=form.get("scope"), oauth_ttl=access_ttl
    )
