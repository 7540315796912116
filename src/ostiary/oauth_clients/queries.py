"""Finding OAuth clients: an account's, or one by id (as the ORM object or its record); and
the lock that orders a change to a client with the storing of its client-credentials tokens."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, Select, bindparam, func, literal_column, select
from sqlalchemy.orm import Session

from ostiary.oauth_clients.errors import ClientNotFound
from ostiary.oauth_clients.models import OAuthClient


def clients_of(owner_id: str) -> Select[OAuthClient]:
    """The clients an account registered, as a query for pagination."""
    return select(OAuthClient).where(OAuthClient.owner_id == owner_id)


def find_client(
    session: Session, client_id: str, *, owner_id: str | None = None, for_change: bool = False
) -> OAuthClient:
    """A client by id; with ``owner_id``, only among that account's clients. ``for_change``
    holds its change lock (:func:`hold_for_change`) and locks its row (PostgreSQL; SQLite's
    writer lock is held already) for a change decided on what it reads: a rotation deciding on
    a secret that a leak report, committing meanwhile, retired would otherwise give the leaked
    secret a grace (``leaks.services``)."""
    found = [OAuthClient.id == client_id]
    if owner_id is not None:
        found.append(OAuthClient.owner_id == owner_id)
    if for_change:
        client = client_for_change(session, *found)
    else:
        client = session.scalar(select(OAuthClient).where(*found))
    if client is None:
        raise ClientNotFound()
    return client


def client_for_change(session: Session, *where: ColumnElement[bool]) -> OAuthClient | None:
    """The client ``where`` finds, for a change: its change lock held (:func:`hold_for_change`)
    and its row locked, as it stands once both are held; None when there is none.

    On PostgreSQL the client's id is found first without a lock: a caller who cannot see the
    client (another account's, a secret it does not have) takes no lock that would hold up its
    tokens. The lock comes before the row's, and the row is then read again (``where`` still
    holding), as a change committed meanwhile left it. SQLite's writer lock, held already,
    orders every change: one read."""
    if session.get_bind().dialect.name == "postgresql":
        client_id = session.scalar(select(OAuthClient.id).where(*where))
        if client_id is None:
            return None
        hold_for_change(session, client_id)
        where = (*where, OAuthClient.id == client_id)
    return session.scalar(
        select(OAuthClient)
        .where(*where)
        .with_for_update()
        .execution_options(populate_existing=True)
    )


# The change lock (PostgreSQL): a transaction-scoped advisory lock per client, in a key space
# of its own (the two-key form; the events' chain lock is a one-key lock). The storing of a
# client's client-credentials tokens holds it shared (``tokens.client_credentials``); whatever
# changes the client (its secrets, scopes or owner, its deletion) holds it exclusively until it
# commits. A suspension of one of its authorizations is ordered by those rows instead. A row lock
# would order them too, but PostgreSQL grants a new FOR SHARE past a queued UPDATE, so a steady
# stream of tokens could hold a leak report off; an advisory lock queues a new shared holder
# behind a waiting exclusive one, and costs no write of the row. Locks are taken in one order:
# this first, then the client's row. A store holding it shared may still take the row's key
# share (the foreign key of an authorization it inserts), so a change that locked the row and
# then waited here would deadlock with it. SQLite's writer lock orders all writers already.
CHANGE_LOCK_SPACE = 0x6F63_6C69  # "ocli"
_KEY: tuple[ColumnElement[Any], ...] = (
    literal_column(str(CHANGE_LOCK_SPACE)),
    func.hashtext(bindparam("client_id")),
)
WAIT_FOR_CHANGES = select(func.pg_advisory_xact_lock_shared(*_KEY))
"""Hold the client's change lock shared (``client_id``), once no change holds it."""
TRY_WAIT_FOR_CHANGES = select(func.pg_try_advisory_xact_lock_shared(*_KEY))
"""Hold the client's change lock shared (``client_id``) if no change holds it or waits for it:
one row, true when it is held."""
_HOLD_FOR_CHANGE = select(func.pg_advisory_xact_lock(*_KEY))


def hold_for_change(session: Session, client_id: str) -> None:
    """Hold the client's change lock exclusively until the transaction ends (PostgreSQL): a
    storing of its tokens under way is waited for, and one that comes later waits for this
    change's commit and reads its outcome. Take it before reading what the change decides on,
    and before locking the client's row."""
    if session.get_bind().dialect.name == "postgresql":
        session.execute(_HOLD_FOR_CHANGE, {"client_id": client_id})
