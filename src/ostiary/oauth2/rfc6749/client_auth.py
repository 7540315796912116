"""Client authentication at the token, revocation and introspection endpoints (RFC 6749 section
2.3; rule R22): ``client_secret_basic`` and ``client_secret_post`` for confidential clients,
``none`` (client_id only) for public ones. Failures are throttled per client and address (R23).
"""

from __future__ import annotations

from ostiary.db import Database
from ostiary.errors import Unauthorized
from ostiary.events import Audit, RequestContext
from ostiary.oauth2.errors import invalid_client
from ostiary.oauth2.requests import ClientCredentials
from ostiary.oauth_clients.records import ClientRecord, load_client_record
from ostiary.oauth_clients.rules import verify_client_secret
from ostiary.security.hashing import SecretHasher
from ostiary.security.throttle import FailureThrottle

AUTH_METHODS = ("client_secret_basic", "client_secret_post", "none")


def authenticate_client(
    database: Database,
    hasher: SecretHasher,
    throttle: FailureThrottle,
    context: RequestContext,
    credentials: ClientCredentials,
    *,
    allow_public: bool = True,
) -> ClientRecord:
    """The client the credentials prove, or Unauthorized (rendered as ``invalid_client``)."""
    if not credentials.client_id:
        raise invalid_client("client_id is required.", basic=credentials.method.endswith("basic"))
    with throttle.guard(f"client:{credentials.client_id}", context.ip):
        client = load_client_record(database, credentials.client_id)
        if client is None:
            raise _failure("unknown client", None)
        if client.is_public:
            if credentials.method != "none":
                raise _failure("a public client sent a secret", client.id)
            if not allow_public:
                raise _failure("a public client cannot use this endpoint", client.id)
            return client
        if credentials.method == "none" or not verify_client_secret(
            hasher, client, credentials.client_secret
        ):
            raise _failure("wrong or missing secret", client.id)
        return client


def _failure(reason: str, client_id: str | None) -> Unauthorized:
    return Unauthorized(
        "Client authentication failed.",
        audit=Audit(
            "oauth:client:auth-failure",
            target_type="client" if client_id else None,
            target_id=client_id,
            details={"reason": reason},
        ),
    )
