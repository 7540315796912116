"""The client credentials grant (RFC 6749 section 4.4): confidential clients only, within the
scopes the client was allowed at registration, and no refresh token."""

from __future__ import annotations

from collections.abc import Callable

from ostiary.errors import GrantNotAllowed, InvalidGrant
from ostiary.oauth2.errors import OAuthError
from ostiary.oauth2.protocols import Client, ClientCredentialsStore, T

GRANT_TYPE = "client_credentials"


def grant(
    tokens: ClientCredentialsStore[T],
    client: Client,
    form: dict[str, str],
    parse_scope: Callable[[str], list[str]],
) -> T:
    """An access token acting for the client's owner (section 4.4.3)."""
    if client.is_public:
        raise OAuthError("unauthorized_client", "A public client cannot use client_credentials.")
    allowed, owner_id = client.client_credentials_scopes, client.owner_id
    if allowed is None or owner_id is None:  # a first-party client has no owner to act for
        raise GrantNotAllowed("This client is not allowed the client_credentials grant.")
    if not client.owner_active:
        # As for a code or a refresh token of a disabled account: no new token acts for it.
        raise InvalidGrant("The account that owns this client is disabled.")
    scope = form.get("scope")
    scopes = sorted(set(parse_scope(scope) if scope is not None else allowed))
    if not set(scopes) <= set(allowed):
        raise InvalidGrant("The requested scope exceeds what this client was allowed.")
    return tokens.issue_client_credentials(client, owner_id, scopes)
