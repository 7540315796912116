"""Client-credentials tokens (RFC 6749 section 4.4): the storage of an access token acting for
the client's owner (the grant's rules are ``oauth2.rfc6749.grants.client_credentials``).

This is the hot path of machine-to-machine callers, which may fetch a token per job. One
authorization per client and scope set carries every such token. Reading the client with its
authorizations (the client compared with the one the request authenticated and the grant
checked, which the worker may have remembered for a few seconds: ``ClientMemory``) and storing
the token and its event are three prepared statements in a direct transaction
(:meth:`ostiary.db.Database.direct_write`), on PostgreSQL after the client's change lock, which
orders them with the changes of the client (``oauth_clients.queries``). Measured on these
machines, the same work through ORM objects cost four times as much (docs/architecture.md).

The store mints the token at once and *stages* its writes (:attr:`ClientCredentialsTokens.staged`):
the caller commits them, through :class:`ostiary.group_commit.GroupCommit` with the writes of
the other requests ready at the same time, before it answers with the token. The staged
function writes the same rows however often it runs, so a batch that was rolled back can run it
again alone.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime, timedelta
from typing import Any, NoReturn

from sqlalchemy import and_, bindparam, insert, select

from ostiary.clock import utcnow
from ostiary.db import table_of
from ostiary.errors import Audit, Unauthorized
from ostiary.events import INSERT_EVENT, RequestContext, event_row
from ostiary.oauth2.protocols import Client, TokenSet
from ostiary.oauth_clients.errors import ClientChanged
from ostiary.oauth_clients.models import OAuthClient
from ostiary.oauth_clients.queries import TRY_WAIT_FOR_CHANGES, WAIT_FOR_CHANGES
from ostiary.oauth_clients.records import CLIENT_RECORD, ClientRecord
from ostiary.prepared import DirectTransaction, as_list
from ostiary.security.hashing import SecretHasher
from ostiary.security.tokens import TokenKind
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind
from ostiary.tokens.services import mint_stored

_authorizations = table_of(Authorization)

_clients = table_of(OAuthClient)

# What the transaction that stores a client's tokens checks, in one query: the client as it
# stands now (what authenticates it and scopes its tokens), and its live client-credentials
# authorizations with their suspension. On PostgreSQL it is read in a statement of its own once
# the client's change lock is held shared (``oauth_clients.queries``): a rotation, leak report
# or deletion not yet committed is waited for and its outcome read (READ COMMITTED reads what
# committed before the statement began), and one that comes later waits for these tokens'
# commit, so no token is stored for a secret retired meanwhile. A suspension is ordered by the
# rows it writes instead (:data:`_SUSPENSIONS`). SQLite's writer lock, which the transaction
# holds from its start, serialises them all already.
_RECORD_COLUMNS = CLIENT_RECORD.columns()
_read_record = CLIENT_RECORD.reader([column.name for column in _RECORD_COLUMNS])
_CLIENT_STATE = (
    select(
        *_RECORD_COLUMNS,
        _authorizations.c.id,
        _authorizations.c.scopes,
        _authorizations.c.suspended_by,
    )
    .select_from(
        _clients.outerjoin(
            _authorizations,
            and_(
                _authorizations.c.client_id == _clients.c.id,
                _authorizations.c.kind == bindparam("kind"),
                _authorizations.c.revoked_at.is_(None),
            ),
        )
    )
    .where(_clients.c.id == bindparam("client_id"))
)
# The client's live client-credentials authorizations, locked (PostgreSQL), when a token needs a
# new one: read only then, it costs the hot path nothing.
_SUSPENSIONS = (
    select(_authorizations.c.id, _authorizations.c.suspended_by)
    .where(
        _authorizations.c.client_id == bindparam("client_id"),
        _authorizations.c.kind == bindparam("kind"),
        _authorizations.c.revoked_at.is_(None),
    )
    # In one order, the one a flush suspends them in (``alerts.services.raise_alerts``): two
    # suspensions of one client's authorizations never wait for this read the other way round.
    .order_by(_authorizations.c.id)
    .with_for_update(read=True)
)
_INSERT_AUTHORIZATION = insert(_authorizations).returning(_authorizations.c.id)
_INSERT_ACCESS_TOKEN = insert(table_of(AccessToken))
_KIND = AuthorizationKind.CLIENT_CREDENTIALS.value

LiveAuthorization = tuple[str, Any, Any]  # id, scopes (JSON), suspended_by


@dataclass(frozen=True, slots=True)
class _ClientState:
    """The client as the storing transaction reads it (None once it is deleted) and its live
    client-credentials authorizations."""

    client: ClientRecord | None
    authorizations: list[LiveAuthorization]


class ClientBeingChanged(Exception):
    """A batch's second client (or later) is being changed: the batch gives way (it is rolled
    back, and each of its tokens stored alone) rather than wait while it holds the change lock
    of another, which a change of both clients (a report of several leaked secrets) may want:
    that would be a deadlock, which PostgreSQL ends only after a second."""


def _wait_for_changes(transaction: DirectTransaction, client_id: str) -> None:
    """Hold the client's change lock shared (PostgreSQL) before reading it: the first client of
    a transaction waits for it; a later one takes it only if it is free (ClientBeingChanged)."""
    if transaction.sole_writer:
        return
    if not transaction.found.get(_wait_for_changes):
        transaction.found[_wait_for_changes] = True
        # Its answer is not read: psycopg's pipeline sends it with the read of the client, in
        # one round trip, and the server runs the read once it holds the lock.
        transaction.execute(WAIT_FOR_CHANGES, client_id=client_id)
        return
    held = transaction.first(TRY_WAIT_FOR_CHANGES, client_id=client_id)
    if held is None or not held[0]:
        raise ClientBeingChanged(client_id)


def _client_state(transaction: DirectTransaction, client_id: str) -> _ClientState:
    _wait_for_changes(transaction, client_id)
    rows = transaction.rows(_CLIENT_STATE, client_id=client_id, kind=_KIND)
    if not rows:
        return _ClientState(None, [])
    first = len(_RECORD_COLUMNS)  # the authorization's columns follow the client's
    authorizations = [
        (str(row[first]), row[first + 1], row[first + 2]) for row in rows if row[first] is not None
    ]
    return _ClientState(_read_record(rows[0]), authorizations)


def _authorization_for(
    transaction: DirectTransaction,
    client: Client,
    owner_id: str,
    scopes: list[str],
    rows: list[LiveAuthorization],
) -> str:
    """The id of the client's live authorization (of ``rows``) for exactly these scopes,
    created if needed.

    Unauthorized (``invalid_client``) while any of the client's client-credentials
    authorizations is suspended, whatever scopes are asked: otherwise asking for another scope
    set would make a fresh, unsuspended authorization and escape the suspension."""
    for authorization_id, _, suspended_by in rows:
        if suspended_by is not None:
            _refuse_suspended(client, str(authorization_id), str(suspended_by))
    for authorization_id, stored_scopes, _ in rows:
        # JSON columns do not compare portably in SQL (PostgreSQL's json has no "="): match here.
        if sorted(as_list(stored_scopes) or ()) == scopes:
            return str(authorization_id)
    if not transaction.sole_writer:
        # A suspension may be under way (it writes these rows, not the client's): wait for it
        # and read its outcome before making an authorization it would not cover.
        for authorization_id, suspended_by in transaction.rows(
            _SUSPENSIONS, client_id=client.id, kind=_KIND
        ):
            if suspended_by is not None:
                _refuse_suspended(client, str(authorization_id), str(suspended_by))
    # The id, generation and timestamps are the model's defaults, applied by the transaction.
    created = transaction.first(
        _INSERT_AUTHORIZATION,
        account_id=owner_id,
        kind=_KIND,
        scopes=scopes,
        description=f"Client credentials of {client.name}",
        client_id=client.id,
    )
    assert created is not None  # INSERT ... RETURNING answers one row
    return str(created[0])


def _refuse_changed_client(client: Client) -> NoReturn:
    """:class:`ClientChanged` (``invalid_client``): the client no longer stands as the request
    authenticated it and the grant checked it (a leak report retired the secret, a rotation
    replaced it, the client was deleted, its scopes or its owner changed), either since the
    worker remembered it or while the request waited for the writer. Read in the transaction
    that stores the token, so no token is stored that the client as it stands would not get."""
    raise ClientChanged(client.id)


def _refuse_suspended(client: Client, authorization_id: str, alert_id: str) -> NoReturn:
    """``invalid_client`` (RFC 6749 section 5.2, 401), not ``access_denied``: section 5.2 has no
    ``access_denied`` (that is the authorization endpoint's, section 4.1.2.1), and a suspended
    client's credentials are exactly what the token endpoint no longer accepts until its owner
    reinstates or revokes them. The message names the alert and how to lift it."""
    raise Unauthorized(
        f"The client credentials of {client.name} are suspended after a security alert (alert "
        f"{alert_id}). Its owner can reinstate authorization {authorization_id} on the "
        "dashboard's Alerts page or with "
        f"`POST /oauth/authorizations/{authorization_id}/actions/reinstate`, or revoke it.",
        audit=Audit(
            "auth:failure",
            target_type="authorization",
            target_id=authorization_id,
            details={"reason": "suspended credential", "grant": "client_credentials"},
        ),
    )


class ClientCredentialsTokens:
    """The client credentials grant's store (``oauth2.protocols.ClientCredentialsStore``): it
    mints the token and stages its writes for a direct transaction the caller commits."""

    def __init__(self, hasher: SecretHasher, context: RequestContext, oauth_ttl: int) -> None:
        self._hasher = hasher
        self._context = context
        self._oauth_ttl = oauth_ttl
        self.staged: list[Callable[[DirectTransaction], None]] = []
        """The writes of the tokens issued, to run in a direct transaction before answering."""

    def issue_client_credentials(
        self, client: Client, owner_id: str, scopes: list[str]
    ) -> TokenSet:
        """A new access token for the client's owner (RFC 6749 section 4.4.3); it may be
        returned once :attr:`staged` is committed."""
        plaintext, stored = mint_stored(self._hasher, TokenKind.OAUTH_ACCESS)
        now = utcnow()
        expires_at = now + timedelta(seconds=self._oauth_ttl)
        # The event's id and time are fixed here, so that every run writes the same row.
        event = event_row(
            self._context,
            "oauth:token:issue",
            actor_id=owner_id,
            target_type="authorization",
            details={"grant": "client_credentials", "client_id": client.id},
        )
        assert isinstance(client, ClientRecord)  # what the token endpoint's client lookup gives
        self.staged.append(
            lambda transaction: _store(
                transaction, client, owner_id, scopes, stored, now, expires_at, event
            )
        )
        return TokenSet(
            access_token=plaintext,
            expires_at=expires_at,
            scopes=scopes,
            account_id=owner_id,
            session_id=None,
        )


def _store(
    transaction: DirectTransaction,
    client: ClientRecord,
    owner_id: str,
    scopes: list[str],
    stored: dict[str, str],
    now: datetime,
    expires_at: datetime,
    event: dict[str, Any],
) -> None:
    """Write one issued token and its event, under the client's authorization for ``scopes``,
    once the client is seen as it was authenticated (the client is read once per transaction:
    the tokens of a group commit mostly share it)."""
    state = transaction.found.get((_ClientState, client.id))
    if state is None:
        state = transaction.found[(_ClientState, client.id)] = _client_state(transaction, client.id)
    if state.client != client:
        _refuse_changed_client(client)
    key = (_authorization_for, client.id, tuple(scopes))
    authorization_id = transaction.found.get(key)
    if authorization_id is None:
        authorization_id = transaction.found[key] = _authorization_for(
            transaction, client, owner_id, scopes, state.authorizations
        )
    transaction.execute(
        _INSERT_ACCESS_TOKEN,
        **stored,
        authorization_id=authorization_id,
        created_at=now,  # the instant the expiry counts from (introspection's iat)
        expires_at=expires_at,
    )
    transaction.execute(INSERT_EVENT, **{**event, "target_id": authorization_id})
