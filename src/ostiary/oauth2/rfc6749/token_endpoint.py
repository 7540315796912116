"""The token endpoint (RFC 6749 section 3.2): authenticate the client, dispatch on
``grant_type``, answer the token response of section 5.1.

Supported: authorization_code, refresh_token, client_credentials (and the device code grant when
``rfc8628`` registers it). Not supported, on purpose: ``password`` (rule R15) and ``implicit``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ostiary.clients.models import OAuthClient
from ostiary.clock import seconds_until
from ostiary.events import RequestContext
from ostiary.oauth2 import rfc8628
from ostiary.oauth2.errors import OAuthError, invalid_request
from ostiary.oauth2.requests import client_credentials
from ostiary.oauth2.rfc6749.client_auth import authenticate_client
from ostiary.oauth2.rfc6749.grants import authorization_code, refresh_token
from ostiary.oauth2.rfc6749.grants import client_credentials as cc
from ostiary.security.hashing import SecretHasher
from ostiary.security.throttle import FailureThrottle
from ostiary.tokens.authorizations import IssuedAuthorization

Grant = Callable[
    [Session, SecretHasher, RequestContext, OAuthClient, dict[str, str], int], IssuedAuthorization
]


def token_response(issued: IssuedAuthorization) -> dict[str, object]:
    """RFC 6749 section 5.1, plus Heroku's ``user_id`` and ``session_nonce``."""
    authorization = issued.authorization
    expires = issued.access.row.expires_at
    body: dict[str, object] = {
        "access_token": issued.access.plaintext,
        "token_type": "Bearer",
        "expires_in": seconds_until(expires),
        "scope": " ".join(authorization.scopes),
        "user_id": authorization.account_id,
        "session_nonce": authorization.session_id,
    }
    if issued.refresh is not None:
        body["refresh_token"] = issued.refresh.plaintext
    return body


@dataclass
class TokenEndpoint:
    """Issues tokens for the registered grants."""

    hasher: SecretHasher
    throttle: FailureThrottle
    access_ttl: int
    grants: dict[str, Grant] = field(
        default_factory=lambda: {
            authorization_code.GRANT_TYPE: authorization_code.grant,
            refresh_token.GRANT_TYPE: refresh_token.grant,
            cc.GRANT_TYPE: cc.grant,
            rfc8628.GRANT_TYPE: rfc8628.grant,
        }
    )

    def handle(
        self,
        session: Session,
        context: RequestContext,
        form: dict[str, str],
        authorization_header: str | None,
    ) -> dict[str, object]:
        """Answer one token request, or raise OAuthError / a domain error."""
        grant_type = form.get("grant_type")
        if grant_type is None:
            raise invalid_request("grant_type is required.")
        grant = self.grants.get(grant_type)
        if grant is None:
            raise OAuthError(
                "unsupported_grant_type", f"grant_type {grant_type!r} is not supported."
            )
        credentials = client_credentials(authorization_header, form)
        client = authenticate_client(session, self.hasher, self.throttle, context, credentials)
        return token_response(grant(session, self.hasher, context, client, form, self.access_ttl))
