"""Token revocation (RFC 7009; rule R37).

The client authenticates (public clients by client_id). Unknown tokens get 200 as well
(section 2.2). Revoking a refresh token revokes its whole authorization, access tokens included;
revoking an access token revokes that token (section 2.1). A token issued to another client is
refused.
"""

from __future__ import annotations

from ostiary.oauth2.errors import OAuthError, invalid_request
from ostiary.oauth2.protocols import Client, RevocationStore


def revoke(tokens: RevocationStore, client: Client, form: dict[str, str]) -> None:
    """Revoke the token in ``form`` if it exists and belongs to the client."""
    token = form.get("token")
    if token is None:
        raise invalid_request("token is required.")
    found = tokens.find_revocable(token)
    if found is None:
        return
    if found.client_id != client.id:
        raise OAuthError("invalid_grant", "This token was not issued to this client.")
    tokens.revoke(found, client)
