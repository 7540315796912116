"""The token endpoint (RFC 6749 section 3.2): authenticate the client, dispatch on
``grant_type``, answer the token response of section 5.1.

Supported: authorization_code, refresh_token, client_credentials (and the device code grant when
``rfc8628`` registers it). Not supported, on purpose: ``password`` (rule R15) and ``implicit``.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field

from sqlalchemy.orm import Session

from ostiary.clock import seconds_until
from ostiary.db import Database
from ostiary.events import RequestContext
from ostiary.oauth2 import rfc8628
from ostiary.oauth2.errors import OAuthError, invalid_request
from ostiary.oauth2.requests import client_credentials
from ostiary.oauth2.rfc6749.client_auth import authenticate_client
from ostiary.oauth2.rfc6749.grants import authorization_code, refresh_token
from ostiary.oauth2.rfc6749.grants import client_credentials as cc
from ostiary.oauth_clients.records import ClientRecord
from ostiary.security.hashing import SecretHasher
from ostiary.security.throttle import FailureThrottle
from ostiary.tokens.records import TokenSet

Grant = Callable[
    [Database, SecretHasher, RequestContext, ClientRecord, dict[str, str], int], TokenSet
]
"""A grant type's handler; it runs its own transaction."""

SessionGrant = Callable[
    [Session, SecretHasher, RequestContext, ClientRecord, dict[str, str], int], TokenSet
]


def in_transaction(grant: SessionGrant) -> Grant:
    """A grant that does its work in one ORM write transaction."""

    def run(
        database: Database,
        hasher: SecretHasher,
        context: RequestContext,
        client: ClientRecord,
        form: dict[str, str],
        access_ttl: int,
    ) -> TokenSet:
        with database.unit_of_work(write=True) as session:
            return grant(session, hasher, context, client, form, access_ttl)

    return run


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


@dataclass
class TokenEndpoint:
    """Issues tokens for the registered grants."""

    database: Database
    hasher: SecretHasher
    throttle: FailureThrottle
    access_ttl: int
    grants: dict[str, Grant] = field(
        default_factory=lambda: {
            authorization_code.GRANT_TYPE: in_transaction(authorization_code.grant),
            refresh_token.GRANT_TYPE: in_transaction(refresh_token.grant),
            rfc8628.GRANT_TYPE: in_transaction(rfc8628.grant),
            # The hot machine-to-machine grant writes on a direct transaction (prepared.py).
            cc.GRANT_TYPE: cc.grant,
        }
    )

    def handle(
        self,
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
        client = authenticate_client(
            self.database, self.hasher, self.throttle, context, credentials
        )
        issued = grant(self.database, self.hasher, context, client, form, self.access_ttl)
        return token_response(issued)
