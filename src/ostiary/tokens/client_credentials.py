"""Client-credentials tokens (RFC 6749 section 4.4): an access token acting for the client's
owner, within the scopes the client was allowed at registration, and no refresh token.

This is the hot path of machine-to-machine callers, which may fetch a token per job. One
authorization per client and scope set carries every such token. Finding it and storing the
token and its event are three prepared statements in a direct transaction
(:meth:`ostiary.db.Database.direct_write`): measured on these machines, the same work through
ORM objects cost four times as much (docs/architecture.md).
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import bindparam, insert, select

from ostiary.clock import utcnow
from ostiary.db import table_of
from ostiary.errors import GrantNotAllowed, InvalidGrant
from ostiary.events import INSERT_EVENT, RequestContext, event_row
from ostiary.oauth_clients.records import ClientRecord
from ostiary.prepared import DirectTransaction, as_list
from ostiary.security.hashing import SecretHasher
from ostiary.security.tokens import TokenKind
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind
from ostiary.tokens.records import TokenSet
from ostiary.tokens.scopes import parse_scopes
from ostiary.tokens.services import mint_stored

_authorizations = table_of(Authorization)

_LIVE_AUTHORIZATIONS = select(_authorizations.c.id, _authorizations.c.scopes).where(
    _authorizations.c.client_id == bindparam("client_id"),
    _authorizations.c.kind == bindparam("kind"),
    _authorizations.c.revoked_at.is_(None),
)
_INSERT_AUTHORIZATION = insert(_authorizations).returning(_authorizations.c.id)
_INSERT_ACCESS_TOKEN = insert(table_of(AccessToken))


def _authorization_for(
    transaction: DirectTransaction, client: ClientRecord, owner_id: str, scopes: list[str]
) -> str:
    """The id of the client's live authorization for exactly these scopes, created if needed."""
    kind = AuthorizationKind.CLIENT_CREDENTIALS.value
    for authorization_id, stored_scopes in transaction.rows(
        _LIVE_AUTHORIZATIONS, client_id=client.id, kind=kind
    ):
        # JSON columns do not compare portably in SQL (PostgreSQL's json has no "="): match here.
        if sorted(as_list(stored_scopes) or ()) == scopes:
            return str(authorization_id)
    # The id, generation and timestamps are the model's defaults, applied by the transaction.
    created = transaction.first(
        _INSERT_AUTHORIZATION,
        account_id=owner_id,
        kind=kind,
        scopes=scopes,
        description=f"Client credentials of {client.name}",
        client_id=client.id,
    )
    assert created is not None  # INSERT ... RETURNING answers one row
    return str(created[0])


def client_credentials_token(
    transaction: DirectTransaction,
    hasher: SecretHasher,
    context: RequestContext,
    *,
    client: ClientRecord,
    scope: str | None,
    oauth_ttl: int,
) -> TokenSet:
    """A new access token for the client's owner (RFC 6749 section 4.4.3)."""
    allowed, owner_id = client.client_credentials_scopes, client.owner_id
    if allowed is None or owner_id is None:  # a first-party client has no owner to act for
        raise GrantNotAllowed("This client is not allowed the client_credentials grant.")
    scopes = sorted(set(parse_scopes(scope) if scope is not None else allowed))
    if not set(scopes) <= set(allowed):
        raise InvalidGrant("The requested scope exceeds what this client was allowed.")
    authorization_id = _authorization_for(transaction, client, owner_id, scopes)
    plaintext, stored = mint_stored(hasher, TokenKind.OAUTH_ACCESS)
    now = utcnow()
    expires_at = now + timedelta(seconds=oauth_ttl)
    transaction.execute(
        _INSERT_ACCESS_TOKEN,
        **stored,
        authorization_id=authorization_id,
        created_at=now,  # the instant the expiry counts from (introspection's iat)
        expires_at=expires_at,
    )
    event = event_row(
        context,
        "oauth:token:issue",
        actor_id=owner_id,
        target_type="authorization",
        target_id=authorization_id,
        details={"grant": "client_credentials", "client_id": client.id},
    )
    transaction.execute(INSERT_EVENT, **event)
    return TokenSet(
        access_token=plaintext,
        expires_at=expires_at,
        scopes=scopes,
        account_id=owner_id,
        session_id=None,
    )
