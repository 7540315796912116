"""Lookups through libpq on a real PostgreSQL (ostiary.libpq_lookup, via Database.prepared): the
statement is prepared once per connection and reused, a connection the server dropped is
replaced without an error, an error of the statement is the driver's error, and the values read
are the ones a psycopg cursor reads."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import bindparam, insert, select

from ostiary.db import Database, table_of
from ostiary.events import INSERT_EVENT, SYSTEM, Event, event_row
from ostiary.migrate import upgrade
from tests.support.postgres import ADMIN_URL, fresh_database

_events = table_of(Event)
_BY_ACTION = select(_events.c.id, _events.c.created_at, _events.c.details, _events.c.seq).where(
    _events.c.action == bindparam("action")
)
_BY_SEQ = select(_events.c.id).where(_events.c.seq == bindparam("seq"))


@pytest.fixture
def database() -> Iterator[Database]:
    with fresh_database("ostiary_libpq") as url:
        upgrade(url)
        db = Database(url)
        yield db
        db.dispose()


def _record(database: Database, action: str) -> dict[str, Any]:
    row = event_row(SYSTEM, action, actor_id=None, details={"scope": ["read"], "n": 1})
    with database.direct_write() as transaction:
        transaction.execute(INSERT_EVENT, **row)
    return row


def _backend_of(database: Database) -> tuple[int, list[str]]:
    """The server process behind this thread's lookup connection, and what it has prepared."""
    database.ping()  # a lookup of its own, which opens the connection
    raw = database._lookup_connections.get().driver_connection
    backend = raw.info.backend_pid
    names = [name for (name,) in raw.execute("SELECT name FROM pg_prepared_statements")]
    return backend, names


def test_values_are_the_ones_a_cursor_reads(database: Database) -> None:
    row = _record(database, "test:libpq")
    found = database.prepared(_BY_ACTION).first(action="test:libpq")
    with psycopg.connect(database.url.replace("+psycopg", "")) as connection:
        expected = connection.execute(
            "SELECT id, created_at, details, seq FROM events WHERE action = %s", ("test:libpq",)
        ).fetchone()
    assert found == expected
    assert found is not None
    assert found[0] == row["id"]
    # A naive UTC timestamp, as the cursor gives it (the read models make it aware).
    assert found[1] == row["created_at"].replace(tzinfo=None)
    assert found[2] == {"scope": ["read"], "n": 1}
    assert database.prepared(_BY_ACTION).first(action="test:none") is None


def test_a_statement_is_prepared_once_per_connection(database: Database) -> None:
    lookup = database.prepared(_BY_ACTION)
    for _ in range(20):
        lookup.first(action="test:none")
    _, names = _backend_of(database)
    ours = [name for name in names if name.startswith("ostiary_lookup_")]
    # This lookup and the ping's: each prepared once, however often it ran.
    assert len(ours) == 2


def test_a_connection_the_server_dropped_is_replaced(database: Database) -> None:
    _record(database, "test:restart")
    lookup = database.prepared(_BY_ACTION)
    assert lookup.first(action="test:restart") is not None
    backend, _ = _backend_of(database)
    with psycopg.connect(ADMIN_URL, autocommit=True) as admin:
        admin.execute("SELECT pg_terminate_backend(%s)", (backend,))
    # The next lookup finds its connection dead, opens another, prepares there and answers.
    assert lookup.first(action="test:restart") is not None
    replaced, names = _backend_of(database)
    assert replaced != backend
    assert any(name.startswith("ostiary_lookup_") for name in names)


def test_an_error_of_the_statement_is_the_drivers(database: Database) -> None:
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        database.prepared(_BY_SEQ).first(seq="not a number")
    # The connection it failed on was replaced: the next lookup works.
    assert database.prepared(_BY_SEQ).first(seq=1) is None


def test_a_lookup_connection_goes_back_to_the_pool_still_transactional(
    database: Database,
) -> None:
    """A thread's lookup connection returns to the pool when the thread ends; a session that
    gets it next and fails must still roll its writes back."""
    worker = threading.Thread(target=lambda: database.prepared(_BY_ACTION).first(action="x"))
    worker.start()
    worker.join()
    gc.collect()  # the thread's connection goes back to the pool
    row = event_row(SYSTEM, "test:rolled-back", actor_id=None)

    def fail_after_inserting() -> None:
        with database.unit_of_work(write=True) as session:
            session.connection().execute(insert(_events), row)
            raise RuntimeError("the request failed after its insert")

    with pytest.raises(RuntimeError):
        fail_after_inserting()
    assert database.prepared(_BY_ACTION).first(action="test:rolled-back") is None
