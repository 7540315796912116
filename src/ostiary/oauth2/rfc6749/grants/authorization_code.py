"""The authorization code grant at the token endpoint (RFC 6749 section 4.1.3; RFC 7636)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ostiary.events import RequestContext
from ostiary.oauth2.errors import OAuthError, invalid_request
from ostiary.oauth_clients.records import ClientRecord
from ostiary.security.hashing import SecretHasher
from ostiary.tokens.exchange import exchange_code
from ostiary.tokens.records import TokenSet

GRANT_TYPE = "authorization_code"


def grant(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    client: ClientRecord,
    form: dict[str, str],
    access_ttl: int,
) -> TokenSet:
    """Exchange a code bound to this client, its redirect URI and its PKCE challenge."""
    code = form.get("code")
    if code is None:
        raise invalid_request("code is required.")
    verifier = form.get("code_verifier")
    if client.is_public and verifier is None:
        raise OAuthError("invalid_grant", "A public client must send its code_verifier (PKCE).")
    issued = exchange_code(
        session,
        hasher,
        context,
        code=code,
        client=client,
        code_verifier=verifier,
        redirect_uri=form.get("redirect_uri"),
        oauth_ttl=access_ttl,
    )
    return issued.token_set()
