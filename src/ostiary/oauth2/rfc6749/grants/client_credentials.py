"""The client credentials grant (RFC 6749 section 4.4): confidential clients only, within the
scopes the client was allowed at registration, and no refresh token."""

from __future__ import annotations

from ostiary.db import Database
from ostiary.events import RequestContext
from ostiary.oauth2.errors import OAuthError
from ostiary.oauth_clients.records import ClientRecord
from ostiary.security.hashing import SecretHasher
from ostiary.tokens.client_credentials import client_credentials_token
from ostiary.tokens.records import TokenSet

GRANT_TYPE = "client_credentials"


def grant(
    database: Database,
    hasher: SecretHasher,
    context: RequestContext,
    client: ClientRecord,
    form: dict[str, str],
    access_ttl: int,
) -> TokenSet:
    """An access token acting for the client's owner."""
    if client.is_public:
        raise OAuthError("unauthorized_client", "A public client cannot use client_credentials.")
    with database.direct_write() as transaction:
        return client_credentials_token(
            transaction,
            hasher,
            context,
            client=client,
            scope=form.get("scope"),
            oauth_ttl=access_ttl,
        )
