"""SQLite's WAL checkpoints, run on a thread of their own instead of in a commit on the loop.

By default SQLite checkpoints in the commit that takes the write-ahead log past 1,000 pages:
that commit copies the log's pages into the database file and syncs it before it returns. On
SQLite the group commit runs its batches on the event loop (``ostiary.group_commit``), so such a
commit stopped every request of its worker for as long; with the activity log's sealing, it set
most of the token path's p99 (docs/architecture.md, "Checkpoints off the event loop").

While a server runs, a :class:`WalCheckpointer` thread runs a ``PASSIVE`` checkpoint every
``interval`` seconds on a connection of its own (a passive checkpoint waits for no reader or
writer: it copies what it can), and the database's direct-write connections, the ones that
commit on the loop, stop checkpointing themselves (``PRAGMA wal_autocheckpoint=0``). Sessions'
connections, which commit on worker threads, keep SQLite's default. Without a running server
nothing changes: the CLI's connections checkpoint as SQLite always does.
"""

from __future__ import annotations

import contextlib
import logging
import threading
from typing import Any

from sqlalchemy import Engine

logger = logging.getLogger("ostiary.db")

# The key, in a pooled connection's ``info``, marking one whose automatic checkpoints are off.
NO_AUTOCHECKPOINT = "ostiary.no_autocheckpoint"


# SQLite's default: a commit that takes the log past this many pages checkpoints it.
DEFAULT_AUTOCHECKPOINT = 1000


def set_commit_checkpoints(connection: Any, enabled: bool) -> None:
    """Whether ``connection``'s (a pooled connection's) commits checkpoint the WAL, SQLite's
    default, or leave it to a checkpointer thread; switched only when that changes."""
    if bool(connection.info.get(NO_AUTOCHECKPOINT)) == (not enabled):
        return
    cursor = connection.cursor()
    cursor.execute(f"PRAGMA wal_autocheckpoint={DEFAULT_AUTOCHECKPOINT if enabled else 0}")
    cursor.close()
    connection.info[NO_AUTOCHECKPOINT] = not enabled


def restore_on_checkin(dbapi_connection: Any, record: Any) -> None:
    """A pool ``checkin`` listener: a connection going back to the pool checkpoints in its
    commits again, whoever checks it out next (a session, a CLI command)."""
    # An invalidated connection comes back as None, its record's info already cleared.
    if record.info.pop(NO_AUTOCHECKPOINT, False) and dbapi_connection is not None:
        dbapi_connection.execute(f"PRAGMA wal_autocheckpoint={DEFAULT_AUTOCHECKPOINT}")


class WalCheckpointer:
    """A thread checkpointing one SQLite database's WAL every ``interval`` seconds."""

    def __init__(self, engine: Engine, interval: float = 0.2) -> None:
        self._engine = engine
        self._interval = interval
        self._stopping = threading.Event()
        self._thread = threading.Thread(
            target=self._run, name="ostiary-wal-checkpoint", daemon=True
        )
        self.runs = 0
        """Checkpoints run so far."""
        self.last: tuple[int, int, int] | None = None
        """The last one's result: (busy, frames in the log, frames of it checkpointed)."""
        self.failing = False
        """Whether the last checkpoint failed (the next round tries again)."""

    @property
    def working(self) -> bool:
        """Whether the thread runs and its last checkpoint succeeded: while it is not, the
        direct writes checkpoint in their commits again, so the WAL never grows unchecked."""
        return self._thread.is_alive() and not self.failing

    def start(self) -> None:
        """Begin checkpointing."""
        self._thread.start()

    def stop(self) -> None:
        """Stop, after one last checkpoint, and wait for the thread."""
        self._stopping.set()
        if self._thread.is_alive():
            self._thread.join()

    def checkpoint(self, connection: Any) -> None:
        """One passive checkpoint on ``connection``."""
        cursor = connection.cursor()
        try:
            cursor.execute("PRAGMA wal_checkpoint(PASSIVE)")
            row = cursor.fetchone()
        finally:
            cursor.close()
        self.last = (int(row[0]), int(row[1]), int(row[2]))
        self.runs += 1

    def _run(self) -> None:
        connection = None
        while True:
            stopping = self._stopping.wait(self._interval)
            try:
                if connection is None:
                    connection = self._engine.raw_connection()
                self.checkpoint(connection)
                self.failing = False
            except Exception:  # a locked or lost database: the next round tries again
                if not self.failing:  # once per run of failures, not five times a second
                    logger.warning("a WAL checkpoint failed; retrying", exc_info=True)
                self.failing = True
                if connection is not None:
                    with contextlib.suppress(Exception):
                        connection.invalidate()
                connection = None
            if stopping:
                break
        if connection is not None:
            connection.close()
