"""A lookup on PostgreSQL sent through libpq (``psycopg.pq``) instead of a psycopg cursor.

The hot paths' lookups (``prepared.PreparedQuery``) are one short SELECT each, by primary key or
by token hash. Through a cursor, psycopg spends about 90 us of CPU on one (query conversion,
its prepared-statement manager, the generators that drive libpq, a cursor per call); the same
SELECT, prepared once per connection and run with ``PQexecPrepared``, costs about 50 us, with
the same adapters loading the row, so a value comes back exactly as a cursor would give it
(docs/architecture.md, "PostgreSQL lookups through libpq").

The SQL is SQLAlchemy's, with ``$n`` parameters, each cast to its type (``$1::VARCHAR``; a
statement with a parameter the dialect does not cast is refused when it is compiled), so the
server never guesses one; values are sent as text, dumped by psycopg's adapters. Outside a
transaction block, each statement runs in a transaction of its own and always sees the latest
committed row.

A statement is prepared on each connection the first time it runs there, under a name taken
from its SQL (``ostiary_lookup_`` and a hash; psycopg's own are ``_pg3_*``), so one name always
means one statement, whichever worker prepared it. What a connection has prepared is kept in
the pool's ``info`` of that connection, which is dropped with it; a server that forgot it
(``DEALLOCATE ALL``) gets it prepared again.
"""

from __future__ import annotations

import hashlib
from collections.abc import Sequence
from typing import Any, cast

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy.pool import PoolProxiedConnection

# The SQLSTATEs of "prepared statement does not exist" and "... already exists".
_NOT_PREPARED = b"26000"
_ALREADY_PREPARED = b"42P05"


class _ConnectionState:
    """A connection's libpq handle, what it has prepared, and the transformer that adapts its
    values."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.connection = connection
        self.pgconn = connection.pgconn
        self.prepared: set[bytes] = set()
        self.transformer = Transformer(connection)

    def raise_error(self, result: pq.abc.PGresult) -> None:
        """Raise the psycopg error a cursor would have raised for ``result``."""
        raise psycopg.errors.error_from_result(result, encoding=self.connection.info.encoding)


# The key of that state in the pool's ``info`` of the connection, which lives and dies with it.
_STATE = "ostiary.libpq_lookup"


def _state_of(pooled: PoolProxiedConnection) -> _ConnectionState:
    state: _ConnectionState | None = pooled.info.get(_STATE)
    if state is None:
        connection = cast(psycopg.Connection[Any], pooled.driver_connection)
        state = pooled.info[_STATE] = _ConnectionState(connection)
    return state


class LibpqLookup:
    """One SELECT with ``$n`` parameters, run on psycopg connections through libpq."""

    def __init__(self, sql: str, parameter_count: int) -> None:
        self.sql = sql.encode("utf-8")
        self.name = b"ostiary_lookup_" + hashlib.sha256(self.sql).hexdigest()[:24].encode()
        self._formats = [PyFormat.TEXT] * parameter_count

    def first(self, pooled: PoolProxiedConnection, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """The first row for ``params`` (already bind-processed, in order) on a pooled psycopg
        connection, or None; a failure raises the psycopg error a cursor would have raised."""
        state = _state_of(pooled)
        pgconn = state.pgconn
        if pgconn.transaction_status != pq.TransactionStatus.IDLE:
            # Nothing of ours opens a transaction here, but a lookup inside one would read its
            # snapshot (a revocation committed since would go unseen) or fail for ever.
            pgconn.exec_(b"ROLLBACK")
        transformer = state.transformer
        # libpq takes None for NULL, as psycopg's own cursors pass it; the stubs say otherwise.
        values = cast(Sequence[bytes], transformer.dump_sequence(params, self._formats))
        if self.name not in state.prepared:
            self._prepare(state)
        result = pgconn.exec_prepared(self.name, values)
        if result.status != pq.ExecStatus.TUPLES_OK:
            if result.error_field(pq.DiagnosticField.SQLSTATE) != _NOT_PREPARED:
                state.raise_error(result)
            self._prepare(state)  # the server forgot it (DEALLOCATE ALL): once more
            result = pgconn.exec_prepared(self.name, values)
            if result.status != pq.ExecStatus.TUPLES_OK:
                state.raise_error(result)
        if not result.ntuples:
            return None
        transformer.set_pgresult(result)
        try:
            return transformer.load_row(0, tuple)
        finally:
            transformer.set_pgresult(None)

    def _prepare(self, state: _ConnectionState) -> None:
        result = state.pgconn.prepare(self.name, self.sql)
        # A name is a hash of its SQL: one the server has already is this statement.
        if (
            result.status != pq.ExecStatus.COMMAND_OK
            and result.error_field(pq.DiagnosticField.SQLSTATE) != _ALREADY_PREPARED
        ):
            state.raise_error(result)
        state.prepared.add(self.name)
