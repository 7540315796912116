"""The authorization code grant at the token endpoint (RFC 6749 section 4.1.3; RFC 7636).

- A code works once, within its lifetime, for its own client (section 4.1.2). A second use
  revokes the tokens issued from it (section 4.1.2; rule R11).
- A code is bound to its redirect URI and its PKCE challenge (RFC 7636 section 4.6; rules R8,
  R10): a verifier is required exactly when a challenge was given, and a public client must
  always send one.
"""

from __future__ import annotations

from datetime import datetime

from ostiary.errors import GrantReuse, InvalidGrant
from ostiary.oauth2 import rfc7636
from ostiary.oauth2.errors import OAuthError, invalid_request
from ostiary.oauth2.protocols import Client, CodeStore, StoredCode, T
from ostiary.oauth2.rfc6749.client_auth import AuthenticatedClient, GrantClient

GRANT_TYPE = "authorization_code"


def check_binding(code: StoredCode, code_verifier: str | None, redirect_uri: str | None) -> None:
    """The verifier answers the code's challenge (RFC 7636 section 4.6) and the redirect URI is
    the one the code was issued for (RFC 6749 section 4.1.3)."""
    if code.code_challenge is not None:
        if code_verifier is None or not rfc7636.verify(code_verifier, code.code_challenge):
            raise InvalidGrant("The code_verifier does not match the code_challenge.")
    elif code_verifier is not None:
        raise InvalidGrant("This code was issued without a code_challenge; send no verifier.")
    if code.redirect_uri is not None and redirect_uri != code.redirect_uri:
        raise InvalidGrant("redirect_uri must be the one the code was issued for.")


def redeem_code(
    codes: CodeStore[T],
    client: GrantClient,
    *,
    code: str,
    code_verifier: str | None,
    redirect_uri: str | None,
    now: datetime,
) -> T:
    """New access and refresh tokens for a code, which is used up."""
    found = codes.find_code(code)
    if found is None:
        raise InvalidGrant("The grant code is invalid.")
    client.confirm(found.client_id)
    if found.used:
        codes.revoke_code_family(found)
        raise GrantReuse("The grant code was already used; its tokens have been revoked.")
    if found.expires_at <= now:
        raise InvalidGrant("The grant code has expired.")
    check_binding(found, code_verifier, redirect_uri)
    if not found.authorization_active:
        raise InvalidGrant("This authorization was revoked or has expired.")
    return codes.redeem(found)


def grant(codes: CodeStore[T], client: Client, form: dict[str, str], now: datetime) -> T:
    """The grant from a token request's form (section 4.1.3)."""
    code = form.get("code")
    if code is None:
        raise invalid_request("code is required.")
    verifier = form.get("code_verifier")
    if client.is_public and verifier is None:
        raise OAuthError("invalid_grant", "A public client must send its code_verifier (PKCE).")
    return redeem_code(
        codes,
        AuthenticatedClient(client),
        code=code,
        code_verifier=verifier,
        redirect_uri=form.get("redirect_uri"),
        now=now,
    )
