"""Prepared statements and direct transactions (ostiary.prepared, Database.direct_write) on a real
SQLite file: what they store is what the ORM reads, a failed transaction leaves nothing behind,
lookups see every commit, and writers queue instead of failing."""

from __future__ import annotations

import threading
from collections.abc import Iterator
from datetime import UTC, datetime
from pathlib import Path

import pytest
from sqlalchemy import bindparam, insert, select

from ostiary.db import Database, WriterLock, table_of
from ostiary.events import INSERT_EVENT, SYSTEM, Event, event_row
from ostiary.migrate import upgrade
from ostiary.prepared import as_list, as_utc

_BY_ACTION = select(table_of(Event).c.id, table_of(Event).c.details).where(
    table_of(Event).c.action == bindparam("action")
)


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    url = f"sqlite:///{tmp_path / 'ostiary.db'}"
    upgrade(url)
    db = Database(url)
    yield db
    db.dispose()


def _event(action: str, details: dict[str, object] | None = None) -> dict[str, object]:
    return event_row(SYSTEM, action, actor_id=None, details=details)


def test_a_direct_write_reads_back_through_the_orm_unchanged(database: Database) -> None:
    row = _event("test:direct", {"scope": ["read", "identity"]})
    with database.direct_write() as transaction:
        transaction.execute(INSERT_EVENT, **row)
    with database.unit_of_work(write=False) as session:
        stored = session.scalar(select(Event).where(Event.id == row["id"]))
    assert stored is not None
    assert stored.created_at == row["created_at"]
    assert stored.created_at.tzinfo is not None
    assert stored.details == {"scope": ["read", "identity"]}


def test_a_failed_direct_write_leaves_nothing_and_frees_the_writer(database: Database) -> None:
    def fail_after_inserting() -> None:
        with database.direct_write() as transaction:
            transaction.execute(INSERT_EVENT, **_event("test:rolled-back"))
            raise RuntimeError("the request failed after its insert")

    with pytest.raises(RuntimeError):
        fail_after_inserting()
    with database.direct_write() as transaction:
        assert transaction.first(_BY_ACTION, action="test:rolled-back") is None
        transaction.execute(INSERT_EVENT, **_event("test:after"))
    assert database.prepared(_BY_ACTION).first(action="test:after") is not None


def test_a_prepared_lookup_sees_each_new_commit(database: Database) -> None:
    lookup = database.prepared(_BY_ACTION)
    assert lookup.first(action="test:later") is None
    with database.unit_of_work(write=True) as session:
        session.connection().execute(insert(table_of(Event)), _event("test:later", {"n": 1}))
    found = lookup.first(action="test:later")
    assert found is not None
    assert found[1] in ('{"n": 1}', {"n": 1})


def test_writers_queue_for_the_lock_instead_of_failing(database: Database) -> None:
    """A session write started while a direct transaction holds the writer role waits for it,
    then commits; neither sees 'database is locked'."""
    holding = threading.Event()
    release = threading.Event()
    order: list[str] = []

    def direct() -> None:
        with database.direct_write() as transaction:
            transaction.execute(INSERT_EVENT, **_event("test:first"))
            holding.set()
            release.wait(5)
            order.append("direct transaction ending")

    def session_write() -> None:
        holding.wait(5)
        with database.unit_of_work(write=True) as session:
            session.connection().execute(insert(table_of(Event)), _event("test:second"))
            order.append("session wrote")

    threads = [threading.Thread(target=direct), threading.Thread(target=session_write)]
    for thread in threads:
        thread.start()
    holding.wait(5)
    release.set()
    for thread in threads:
        thread.join(10)
    assert order == ["direct transaction ending", "session wrote"]
    assert database.prepared(_BY_ACTION).first(action="test:second") is not None


def test_driver_values_are_evened_out() -> None:
    moment = datetime(2026, 11, 28, 12, 0, 1)
    assert as_utc("2026-11-28 12:00:01.000000") == moment.replace(tzinfo=UTC)
    assert as_utc(moment) == moment.replace(tzinfo=UTC)
    assert as_utc(None) is None
    assert as_list('["read", "identity"]') == ["read", "identity"]
    assert as_list(["read"]) == ["read"]
    assert as_list(None) is None


HOLDER = """
import sys
from ostiary.db import WriterLock
lock = WriterLock(sys.argv[1])
lock.acquire()
print("held", flush=True)
sys.stdin.readline()
lock.release()
"""


def test_the_writer_lock_holds_writers_of_another_process(tmp_path: Path) -> None:
    """The lock is a POSIX record lock, so a worker process waits for another's transaction;
    the in-process mutex alone would not stop it."""
    import subprocess
    import sys

    path = str(tmp_path / "ostiary.db")
    with subprocess.Popen(
        [sys.executable, "-c", HOLDER, path],
        stdin=subprocess.PIPE,
        stdout=subprocess.PIPE,
        text=True,
    ) as holder:
        assert holder.stdout is not None
        assert holder.stdin is not None
        assert holder.stdout.readline().strip() == "held"
        lock = WriterLock(path)
        acquired = threading.Event()

        def wait_for_lock() -> None:
            lock.acquire()
            acquired.set()
            lock.release()

        waiter = threading.Thread(target=wait_for_lock)
        waiter.start()
        assert not acquired.wait(0.5)  # still held by the other process
        holder.stdin.write("release\n")
        holder.stdin.flush()
        assert acquired.wait(10)  # handed over once released
        waiter.join(10)
        holder.stdin.close()
        holder.wait(10)
