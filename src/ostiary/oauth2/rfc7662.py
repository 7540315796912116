"""Token introspection (RFC 7662; rule R38).

Only an authenticated confidential client may ask, and it learns about tokens issued to it or to
its owner's account; for anything else, and for every inactive token, the answer is
``{"active": false}`` (section 2.2).
"""

from __future__ import annotations

from datetime import datetime

from ostiary.oauth2.errors import invalid_request
from ostiary.oauth2.protocols import Client, IntrospectionStore

INACTIVE: dict[str, object] = {"active": False}


def _timestamp(moment: datetime | None) -> int | None:
    return int(moment.timestamp()) if moment is not None else None


def introspect(
    tokens: IntrospectionStore, client: Client, form: dict[str, str], now: datetime
) -> dict[str, object]:
    """What the client may know about the token in ``form`` (section 2.2)."""
    token = form.get("token")
    if token is None:
        raise invalid_request("token is required.")
    found = tokens.describe(token)
    if (
        found is None
        or not found.active(now)
        or not (found.client_id == client.id or found.account_id == client.owner_id)
    ):
        return INACTIVE
    return {
        "active": True,
        "scope": " ".join(found.scopes),
        "client_id": found.client_id,
        "username": found.email,
        "sub": found.account_id,
        "exp": _timestamp(found.expires_at),
        "iat": _timestamp(found.issued_at),
        "token_type": found.token_type,
    }
