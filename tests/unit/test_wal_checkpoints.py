"""SQLite's checkpoints off the event loop (ostiary.wal_checkpoints), on a real SQLite file:
while the checkpointer runs, a direct write's commit never checkpoints
(the WAL grows past SQLite's 1,000 pages until the thread copies it), the thread does copy it,
and once stopped, commits checkpoint again as SQLite does by default."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from ostiary.db import Database
from ostiary.events import INSERT_EVENT, SYSTEM, event_row

PAGE = 4096
# Rows of about one page each: 1,500 of them take the WAL well past 1,000 pages.
ROWS = 1500


def _write_pages(database: Database) -> None:
    for n in range(ROWS):
        row = event_row(SYSTEM, "test:wal", actor_id=None, details={"n": n, "pad": "x" * 3000})
        with database.direct_write() as transaction:
            transaction.execute(INSERT_EVENT, **row)


def _wal_pages(database: Database) -> float:
    path = Path(database.url.removeprefix("sqlite:///") + "-wal")
    return path.stat().st_size / PAGE


def test_without_the_checkpointer_commits_checkpoint(database: Database) -> None:
    _write_pages(database)
    # SQLite's default: a commit past 1,000 pages copies the log, which is then reused.
    assert _wal_pages(database) < 1100


def test_with_the_checkpointer_no_commit_checkpoints_and_the_thread_does(
    database: Database,
) -> None:
    checkpointer = database.checkpoint_in_background(interval=3600)
    assert checkpointer is not None
    _write_pages(database)
    assert _wal_pages(database) > ROWS  # every commit's pages are still in the log
    connection = database._write_connections.get()
    assert connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (0,)
    assert checkpointer.runs == 0
    connection = database.write_engine.raw_connection()
    checkpointer.checkpoint(connection)
    connection.close()
    assert checkpointer.last is not None
    busy, frames, copied = checkpointer.last
    assert (busy, copied) == (0, frames)
    assert frames > ROWS


def test_the_thread_checkpoints_every_interval(database: Database) -> None:
    checkpointer = database.checkpoint_in_background(interval=0.05)
    assert checkpointer is not None
    _write_pages(database)
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        last = checkpointer.last
        if checkpointer.runs >= 2 and last is not None and last[1] > 0 and last[2] == last[1]:
            break
        time.sleep(0.05)
    else:
        pytest.fail(f"no complete checkpoint within 10 s (last: {checkpointer.last})")


def test_once_stopped_commits_checkpoint_again(database: Database) -> None:
    assert database.checkpoint_in_background(interval=3600) is not None
    _write_pages(database)
    database.checkpoint_in_commits()
    with database.direct_write():
        pass
    connection = database._write_connections.get()
    assert connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)


def test_while_the_thread_is_not_working_commits_checkpoint(database: Database) -> None:
    checkpointer = database.checkpoint_in_background(interval=3600)
    assert checkpointer is not None
    checkpointer.failing = True  # as after a checkpoint that failed
    _write_pages(database)
    assert _wal_pages(database) < 1100


def test_a_connection_back_in_the_pool_checkpoints_again(database: Database) -> None:
    assert database.checkpoint_in_background(interval=3600) is not None
    with database.direct_write():
        pass
    # The thread's direct-write connection goes back to the pool (as when its thread ends);
    # a session that checks it out next gets SQLite's default.
    database._write_connections.close()
    connection = database.write_engine.raw_connection()
    try:
        assert connection.execute("PRAGMA wal_autocheckpoint").fetchone() == (1000,)
    finally:
        connection.close()


def test_postgresql_has_no_checkpointer() -> None:
    # Nothing connects: the URL only names the backend.
    database = Database("postgresql+psycopg://postgres@127.0.0.1:1/none")
    assert database.checkpoint_in_background() is None
