"""A lookup on PostgreSQL sent through libpq (``psycopg.pq``) instead of a psycopg cursor.

The hot paths' lookups (``prepared.PreparedQuery``) are one short SELECT each, by primary key or
by token hash. Through a cursor, psycopg spends about 90 us of CPU on one (query conversion,
its prepared-statement manager, the generators that drive libpq, a cursor per call); the same
SELECT, prepared once per connection and run with ``PQexecPrepared``, costs about 50 us, with
the same adapters loading the row, so a value comes back exactly as a cursor would give it
(docs/architecture.md, "PostgreSQL lookups through libpq").

The statement is prepared on each connection the first time it runs there, under a name of its
own (psycopg's own prepared statements are named ``_pg3_*``), and the server infers the
parameters' types from the statement, as for any untyped parameter. A connection is only ever
used by the thread that keeps it (``prepared.ThreadConnections``), in autocommit mode; what it
has prepared is kept in the pool's ``info`` of that connection, which is dropped with it.
"""

from __future__ import annotations

import itertools
from collections.abc import Sequence
from typing import Any, cast

import psycopg
from psycopg import pq
from psycopg.adapt import PyFormat, Transformer
from sqlalchemy.pool import PoolProxiedConnection

_names = itertools.count(1)


class _ConnectionState:
    """What a connection has prepared, and the transformer that adapts its values."""

    def __init__(self, connection: psycopg.Connection[Any]) -> None:
        self.prepared: set[bytes] = set()
        self.transformer = Transformer(connection)


# The key of that state in the pool's ``info`` of the connection, which lives and dies with it.
_STATE = "ostiary.libpq_lookup"


def _state_of(pooled: PoolProxiedConnection) -> _ConnectionState:
    state: _ConnectionState | None = pooled.info.get(_STATE)
    if state is None:
        connection = cast(psycopg.Connection[Any], pooled.driver_connection)
        state = pooled.info[_STATE] = _ConnectionState(connection)
    return state


def _raise_unless(result: pq.abc.PGresult, status: pq.ExecStatus, encoding: str) -> None:
    if result.status != status:
        raise psycopg.errors.error_from_result(result, encoding=encoding)


class LibpqLookup:
    """One SELECT with ``$n`` parameters, run on psycopg connections through libpq."""

    def __init__(self, sql: str) -> None:
        self.sql = sql.encode("utf-8")
        self.name = f"ostiary_lookup_{next(_names)}".encode("ascii")

    def first(self, pooled: PoolProxiedConnection, params: Sequence[Any]) -> tuple[Any, ...] | None:
        """The first row for ``params`` (already bind-processed, in order) on a pooled psycopg
        connection, or None; a failure raises the psycopg error a cursor would have raised."""
        state = _state_of(pooled)
        connection = cast(psycopg.Connection[Any], pooled.driver_connection)
        pgconn = connection.pgconn
        encoding = connection.info.encoding
        if self.name not in state.prepared:
            _raise_unless(pgconn.prepare(self.name, self.sql), pq.ExecStatus.COMMAND_OK, encoding)
            state.prepared.add(self.name)
        transformer = state.transformer
        values = transformer.dump_sequence(params, [PyFormat.TEXT] * len(params))
        # libpq takes None for NULL, as psycopg's own cursors pass it; the stubs say otherwise.
        result = pgconn.exec_prepared(self.name, cast(Sequence[bytes], values))
        _raise_unless(result, pq.ExecStatus.TUPLES_OK, encoding)
        if not result.ntuples:
            return None
        transformer.set_pgresult(result)
        try:
            return transformer.load_row(0, tuple)
        finally:
            transformer.set_pgresult(None)
