"""Lookups through libpq on a real PostgreSQL (ostiary.libpq_lookup, via Database.prepared): the
statement is prepared once per connection and reused, a connection the server dropped is
replaced without an error, an error of the statement is the driver's error on a connection that
stays in use, and the values read are the ones a psycopg cursor reads."""

from __future__ import annotations

import gc
import threading
from collections.abc import Iterator
from typing import Any

import psycopg
import pytest
from sqlalchemy import (
    JSON,
    Boolean,
    Integer,
    Select,
    String,
    bindparam,
    insert,
    literal_column,
    select,
)
from sqlalchemy.dialects.postgresql import ARRAY

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
    raw.rollback()  # lookups run outside a transaction block: leave none open
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
    backend, _ = _backend_of(database)
    with pytest.raises(psycopg.errors.InvalidTextRepresentation):
        database.prepared(_BY_SEQ).first(seq="not a number")
    # The statement failed, not the connection: it stays in use, and the next lookup works.
    assert database.prepared(_BY_SEQ).first(seq=1) is None
    assert _backend_of(database)[0] == backend


def test_a_value_the_driver_refuses_costs_no_reconnection(database: Database) -> None:
    backend, _ = _backend_of(database)
    with pytest.raises(psycopg.DataError):
        database.prepared(_BY_ACTION).first(action="nul\x00byte")
    assert _backend_of(database)[0] == backend


def test_a_server_that_forgot_its_statements_gets_them_again(database: Database) -> None:
    _record(database, "test:deallocate")
    lookup = database.prepared(_BY_ACTION)
    assert lookup.first(action="test:deallocate") is not None
    backend, names = _backend_of(database)
    assert any(name.startswith("ostiary_lookup_") for name in names)
    raw = database._lookup_connections.get().driver_connection
    raw.execute("DEALLOCATE ALL")
    assert raw.execute("SELECT count(*) FROM pg_prepared_statements").fetchone() == (0,)
    raw.rollback()
    assert lookup.first(action="test:deallocate") is not None
    again, names = _backend_of(database)
    assert again == backend
    assert any(name.startswith("ostiary_lookup_") for name in names)


def test_a_connection_left_in_a_transaction_is_rolled_back_first(database: Database) -> None:
    raw = database._lookup_connections.get().driver_connection
    database.ping()
    raw.execute("SELECT 1")  # psycopg begins a transaction, which stays open
    with pytest.raises(psycopg.errors.DivisionByZero):
        raw.execute("SELECT 1 / 0")  # and is now failed
    _record(database, "test:after")  # committed by another connection meanwhile
    # The lookup neither fails for ever nor reads an old snapshot: it sees the new row.
    assert database.prepared(_BY_ACTION).first(action="test:after") is not None


def test_a_statement_the_server_has_already_is_taken_as_prepared(database: Database) -> None:
    lookup = database.prepared(_BY_ACTION)
    assert lookup.first(action="test:none") is None
    # What this connection prepared is forgotten on our side, not on the server's.
    database._lookup_connections.get().info["ostiary.libpq_lookup"].prepared.clear()
    assert lookup.first(action="test:none") is None


def test_null_json_and_array_values_come_back_as_a_cursor_gives_them(database: Database) -> None:
    echo = select(
        bindparam("text", type_=String).label("text"),
        bindparam("number", type_=Integer).label("number"),
        bindparam("document", type_=JSON).label("document"),
        bindparam("names", type_=ARRAY(String)).label("names"),
    )
    lookup = database.prepared(echo)
    assert lookup.first(text=None, number=None, document={"a": [1, None]}, names=["x", "y"]) == (
        None,
        None,
        {"a": [1, None]},
        ["x", "y"],
    )
    assert lookup.first(text="s", number=100_000, document=["a"], names=[]) == (
        "s",
        100_000,
        ["a"],
        [],
    )


@pytest.mark.parametrize(
    "statement",
    [
        select(bindparam("flag", type_=Boolean).label("flag")),
        select(literal_column("1")).where(literal_column("2") == bindparam("untyped")),
    ],
    ids=["boolean", "no type"],
)
def test_a_parameter_the_sql_does_not_cast_is_refused(
    database: Database, statement: Select[Any]
) -> None:
    # Sent as text of no declared type, the server would guess: a boolean would come back 't'.
    with pytest.raises(TypeError, match="not cast to a type"):
        database.prepared(statement)


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
