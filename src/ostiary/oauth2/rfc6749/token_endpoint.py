"""The token endpoint (RFC 6749 section 3.2): authenticate the client, dispatch on
``grant_type``, answer the token response of section 5.1.

The integration registers one handler per grant type, each bound to its storage and its own
transaction (``web.oauth``): authorization_code, refresh_token, client_credentials and the device
code grant of RFC 8628. Not supported, on purpose: ``password`` (rule R15) and ``implicit``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Generic

from ostiary.clock import seconds_until
from ostiary.oauth2.errors import OAuthError, invalid_request
from ostiary.oauth2.protocols import C, ClientStore, Issued, TokenSet
from ostiary.oauth2.requests import ClientCredentials, client_credentials
from ostiary.oauth2.rfc6749.client_auth import authenticate_client
from ostiary.security.throttle import FailureThrottle

Grant = Callable[[C, dict[str, str]], Issued]
"""A grant type's handler: the authenticated client and the form, to the tokens it issued."""


def token_response(tokens: TokenSet) -> dict[str, object]:
    """RFC 6749 section 5.1, plus Heroku's ``user_id`` and ``session_nonce``."""
    body: dict[str, object] = {
        "access_token": tokens.access_token,
        "token_type": "Bearer",
        "expires_in": seconds_until(tokens.expires_at),
        "scope": " ".join(tokens.scopes),
        "user_id": tokens.account_id,
        "session_nonce": tokens.session_id,
    }
    if tokens.refresh_token is not None:
        body["refresh_token"] = tokens.refresh_token
    return body


@dataclass(frozen=True, slots=True)
class TokenEndpoint(Generic[C]):
    """Issues tokens for the registered grants."""

    clients: ClientStore[C]
    throttle: FailureThrottle
    grants: Mapping[str, Grant[C]]

    def handle(
        self,
        ip: str | None,
        form: dict[str, str],
        authorization_header: str | None,
        credentials: ClientCredentials | None = None,
    ) -> dict[str, object]:
        """Answer one token request, or raise OAuthError / a domain error. ``credentials``: the
        client's, when the caller already read them from the header and the form."""
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise invalid_request("grant_type is required.")
        grant = self.grants.get(grant_type)
        if grant is None:
            raise OAuthError(
                "unsupported_grant_type", f"grant_type {grant_type!r} is not supported."
            )
        if credentials is None:
            credentials = client_credentials(authorization_header, form)
        client = authenticate_client(self.clients, self.throttle, ip, credentials)
        return token_response(grant(client, form).token_set())
