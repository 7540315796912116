"""Prepared statements: SQLAlchemy statements compiled once per dialect and run straight on a
DBAPI connection, for the few paths that run on every request.

- :class:`PreparedQuery`: a lookup (the bearer token behind an API call, the client behind a token
  or introspection request, the token being introspected) on a connection each thread keeps,
  outside any transaction. A single statement in autocommit mode always sees the latest committed
  row: nothing is cached, and a revocation counts on the next request.
- :class:`DirectTransaction`: a short write transaction (issuing a client-credentials token).

Measured on these machines, an ORM session per request halves throughput, and SQLAlchemy's
per-execution machinery (autobegin, pool checkout, execution context) costs as much again as the
SQL it runs: a transaction of three inserts took 600 us through a Session or ``engine.begin()``
and 180 us on the DBAPI connection (docs/architecture.md). Parameters still go through each
column type's bind processor, so stored values are exactly what the ORM would store.

Values come back as the driver gives them: SQLite hands back JSON as text and timestamps as ISO
text, PostgreSQL parses both. :func:`as_list` and :func:`as_utc` even that out.
"""

from __future__ import annotations

import json
import threading
from collections.abc import Callable
from datetime import UTC, datetime
from typing import Any

from sqlalchemy import Engine, Executable, Select
from sqlalchemy.engine import Dialect

AnySelect = Select[*tuple[Any, ...]]


class PreparedSQL:
    """A statement compiled for one dialect, and the bind processing of its parameters.

    An INSERT is compiled for exactly ``column_keys``: the columns the caller provides. Column
    defaults are not applied; the caller passes every value.
    """

    def __init__(
        self, dialect: Dialect, statement: Executable, column_keys: list[str] | None = None
    ) -> None:
        compiled = statement.compile(dialect=dialect, column_keys=column_keys)  # type: ignore[attr-defined]
        self.sql = str(compiled)
        self._positions: list[str] | None = (
            list(compiled.positiontup) if compiled.positional else None
        )
        self._processors = {
            name: processor
            for name, bind in compiled.binds.items()
            if (processor := bind.type.dialect_impl(dialect).bind_processor(dialect)) is not None
        }

    def parameters(self, params: dict[str, Any]) -> Any:
        """``params`` as the driver takes them: processed, and in order for positional styles."""
        processors = self._processors
        if self._positions is None:
            return {
                name: processors[name](value) if name in processors else value
                for name, value in params.items()
            }
        return tuple(
            processors[name](params[name]) if name in processors else params[name]
            for name in self._positions
        )


class ThreadConnections:
    """The DBAPI connection each thread keeps out of an engine's pool for prepared statements:
    in autocommit mode for lookups, or used for one direct transaction at a time."""

    def __init__(self, engine: Engine, *, autocommit: bool) -> None:
        self.engine = engine
        self._autocommit = autocommit
        self._local = threading.local()

    def get(self) -> Any:
        """This thread's connection, opened on first use."""
        connection = getattr(self._local, "connection", None)
        if connection is None:
            connection = self.engine.raw_connection()
            if self.engine.dialect.name == "postgresql":
                connection.driver_connection.autocommit = self._autocommit  # type: ignore[union-attr]
            # SQLite connections are always in autocommit (db._configure_sqlite); a direct
            # transaction begins explicitly.
            self._local.connection = connection
        return connection

    def discard(self, connection: Any) -> None:
        """Throw away a connection that failed; the next use opens a new one."""
        connection.invalidate()
        self._local.connection = None


class PreparedQuery:
    """One SELECT, compiled for one engine's dialect, with bound parameters by name.

    A connection that fails is invalidated and replaced once, so a database restart costs one
    retried lookup, not an error.
    """

    def __init__(self, connections: ThreadConnections, statement: AnySelect) -> None:
        dialect = connections.engine.dialect
        self._connections = connections
        self._prepared = PreparedSQL(dialect, statement)
        self._dbapi_error: type[Exception] = dialect.loaded_dbapi.Error

    def first(self, **params: Any) -> tuple[Any, ...] | None:
        """The first row for these parameters, or None."""
        bound = self._prepared.parameters(params)
        for attempt in range(2):
            connection = self._connections.get()
            try:
                cursor = connection.cursor()
                cursor.execute(self._prepared.sql, bound)
                row = cursor.fetchone()
                cursor.close()
            except self._dbapi_error:
                self._connections.discard(connection)
                if attempt:
                    raise
                continue
            return tuple(row) if row is not None else None
        return None


class DirectTransaction:
    """A write transaction on a DBAPI connection, run by :meth:`Database.direct_write`."""

    def __init__(self, connection: Any, prepare: Callable[[Executable, list[str]], PreparedSQL]):
        self._cursor = connection.cursor()
        self._prepare = prepare

    def close(self) -> None:
        """Release the cursor."""
        self._cursor.close()

    def first(self, statement: Executable, **params: Any) -> tuple[Any, ...] | None:
        """The first row ``statement`` returns."""
        prepared = self._prepare(statement, sorted(params))
        self._cursor.execute(prepared.sql, prepared.parameters(params))
        row = self._cursor.fetchone()
        return tuple(row) if row is not None else None

    def rows(self, statement: Executable, **params: Any) -> list[tuple[Any, ...]]:
        """Every row ``statement`` returns."""
        prepared = self._prepare(statement, sorted(params))
        self._cursor.execute(prepared.sql, prepared.parameters(params))
        return [tuple(row) for row in self._cursor.fetchall()]

    def execute(self, statement: Executable, **params: Any) -> None:
        """Run an INSERT, UPDATE or DELETE."""
        prepared = self._prepare(statement, sorted(params))
        self._cursor.execute(prepared.sql, prepared.parameters(params))


def as_list(value: Any) -> list[Any] | None:
    """A JSON array column's value as a list (None stays None)."""
    if value is None:
        return None
    return json.loads(value) if isinstance(value, str) else list(value)


def as_utc(value: Any) -> datetime | None:
    """A stored timestamp (naive UTC, or ISO text from SQLite) as an aware UTC datetime."""
    if value is None:
        return None
    if isinstance(value, str):
        value = datetime.fromisoformat(value)
    return value.replace(tzinfo=UTC)  # type: ignore[no-any-return]
