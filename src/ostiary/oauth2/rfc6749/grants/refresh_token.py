"""The refresh token grant (RFC 6749 section 6), with rotation and reuse detection (RFC 9700
section 4.14)."""

from __future__ import annotations

from sqlalchemy.orm import Session

from ostiary.events import RequestContext
from ostiary.oauth2.errors import invalid_request
from ostiary.oauth_clients.records import ClientRecord
from ostiary.security.hashing import SecretHasher
from ostiary.tokens.exchange import refresh
from ostiary.tokens.records import TokenSet

GRANT_TYPE = "refresh_token"


def grant(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    client: ClientRecord,
    form: dict[str, str],
    access_ttl: int,
) -> TokenSet:
    """Rotate the client's refresh token; an optional narrower ``scope`` is honoured."""
    token = form.get("refresh_token")
    if token is None:
        raise invalid_request("refresh_token is required.")
    issued = refresh(
        session,
        hasher,
        context,
        refresh_token=token,
        client=client,
        scope=form.get("scope"),
        oauth_ttl=access_ttl,
    )
    return issued.token_set()
