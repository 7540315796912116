"""Database access: engines, the declarative base, and the per-request unit of work.

One transaction per request: services add and change objects in the session they are given and
never commit; :meth:`Database.unit_of_work` commits once when the request's work succeeded and rolls
back otherwise, except for an error marked ``keeps_changes`` (a revocation that answers an attack
must stand although the request fails).

SQLite is the embedded default. Its writers are serialized with ``BEGIN IMMEDIATE`` (the SQLite
form of locking the rows a write touches), so a read-then-write transaction never fails half-way
with ``database is locked``; readers use a deferred ``BEGIN`` and never wait. Writers queue on
:class:`WriterLock` before ``BEGIN IMMEDIATE``, so a waiting writer wakes the moment the lock is
free instead of sleeping through SQLite's busy-handler back-off (docs/architecture.md). PostgreSQL
uses plain transactions and ``SELECT ... FOR UPDATE`` where services ask for a lock.
"""

from __future__ import annotations

import asyncio
import contextlib
import fcntl
import os
import stat
import threading
import time
import uuid
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, ClassVar, cast

from sqlalchemy import (
    DateTime,
    Engine,
    Executable,
    Insert,
    MetaData,
    String,
    Table,
    create_engine,
    event,
    literal_column,
    select,
)
from sqlalchemy.engine import Dialect, make_url
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

from ostiary.files import private_file
from ostiary.group_commit import GroupCommit, Transaction
from ostiary.prepared import (
    AnySelect,
    DirectTransaction,
    PreparedQuery,
    PreparedSQL,
    ThreadConnections,
)
from ostiary.wal_checkpoints import WalCheckpointer, restore_on_checkin, set_commit_checkpoints

_PING: AnySelect = select(literal_column("1"))
# PostgreSQL's SQLSTATEs of a transaction it rolled back to settle a race with another.
_LOST_RACES = frozenset({"40P01", "40001"})

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


def _pipelines_supported() -> bool:
    import psycopg  # only a PostgreSQL database loads the driver

    return bool(psycopg.Pipeline.is_supported())


class UTCDateTime(TypeDecorator[datetime]):
    """A timestamp stored as naive UTC and always returned timezone-aware (UTC)."""

    impl = DateTime
    cache_ok = True

    def process_bind_param(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Store UTC without tzinfo, so SQLite and PostgreSQL hold the same value."""
        if value is None:
            return None
        if value.tzinfo is not None:
            value = value.astimezone(UTC).replace(tzinfo=None)
        return value

    def process_result_value(self, value: datetime | None, dialect: Dialect) -> datetime | None:
        """Return the stored value marked as UTC."""
        if value is None:
            return None
        return value.replace(tzinfo=UTC)


class Base(DeclarativeBase):
    """The declarative base every model derives from."""

    metadata = MetaData(naming_convention=NAMING_CONVENTION)
    type_annotation_map: ClassVar[dict[Any, Any]] = {datetime: UTCDateTime(), str: String()}


def table_of(model: type[Base]) -> Table:
    """A model's table, for the few hot paths that use Core statements instead of the ORM."""
    return cast(Table, model.__table__)


_UUID7_VERSION = 0x7 << 76
_UUID7_VARIANT = 0x2 << 62
_UUID7_CLEARED = ~((0xF << 76) | (0x3 << 62))


def new_id() -> str:
    """A new UUID in its canonical text form (Heroku ids are UUIDs): version 7 (RFC 9562
    section 5.7), the Unix time in milliseconds then 74 random bits.

    Ids made in the same moment sort together, so a batch of inserts extends the last pages of
    each primary-key index instead of one random page per row: at a million stored tokens the
    write of a token and its event cost 30% less CPU and 37% less time (docs/architecture.md,
    "Time-ordered ids"). No id is a secret (every capability is a minted token, stored as its
    keyed hash), so what the time part tells is what ``created_at`` says anyway.
    """
    value = (time.time_ns() // 1_000_000) << 80 | int.from_bytes(os.urandom(10), "big")
    return str(uuid.UUID(int=value & _UUID7_CLEARED | _UUID7_VERSION | _UUID7_VARIANT))


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


# The longest an event loop waiting for SQLite's writer role waits without a wake-up before it
# tries again: a release's wake-up may have been read by another worker's loop, or the
# filesystem may have no named pipes.
WAKE_FALLBACK = 0.002
_PIPE_CAPACITY = 65536  # Linux's default: one read takes every pending wake-up


def _open_wake_pipe(path: str) -> int | None:
    """The named pipe every worker of a database shares to tell the event loops waiting for the
    writer role of a release, opened read-write (so it never blocks or reads end-of-file) and
    non-blocking; None where the filesystem has no named pipes, or something else is at that
    path (a regular file a backup tool restored, a link): the waiters then poll."""
    try:
        with contextlib.suppress(FileExistsError):
            os.mkfifo(path, 0o600)
        descriptor = os.open(path, os.O_RDWR | os.O_NONBLOCK | os.O_NOFOLLOW)
    except OSError:
        return None
    if not stat.S_ISFIFO(os.fstat(descriptor).st_mode):
        os.close(descriptor)
        return None
    return descriptor


class WriterLock:
    """Queues one SQLite database's writers across threads and worker processes.

    SQLite's busy handler retries a locked database after sleeps of 1, 2, 5, 10 ms and more, so
    two workers contending for short write transactions spend most of their time asleep (p99 of
    client-credentials issuance was 450 ms). Here a writer takes an in-process mutex, then a POSIX
    record lock on ``<database>-writer``; the kernel wakes the next writer as soon as the holder
    releases. The mutex waits at most ``timeout`` seconds, like ``busy_timeout``, so a writer that
    nests a second write transaction in the same thread fails instead of waiting for itself.

    An event loop does not wait in the kernel: it takes the role only when it is free
    (:meth:`try_acquire`) and otherwise asks to be called back (:meth:`when_free`); every release
    writes a byte to the named pipe ``<database>-writer-wake``, which wakes the loops waiting on
    it, in any worker (docs/architecture.md, "Waiting for the writer without stopping the loop").
    """

    def __init__(self, path: str, timeout: float = 10.0) -> None:
        self._mutex = threading.Lock()
        self._fd = os.open(f"{path}-writer", os.O_RDWR | os.O_CREAT, 0o600)
        self._timeout = timeout
        self._wake = _open_wake_pipe(f"{path}-writer-wake")
        # Neither descriptor is ever closed: closing any descriptor of the lock file would drop
        # every POSIX lock this process holds on it, a writer's mid-transaction included.
        # :func:`writer_lock` makes one lock per database and process.

    def acquire(self) -> None:
        """Wait for the writer role."""
        if not self._mutex.acquire(timeout=self._timeout):
            raise TimeoutError("Another write transaction held the database for too long.")
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX)
        except BaseException:
            self._mutex.release()
            raise

    def try_acquire(self) -> bool:
        """Take the writer role if nobody holds it, without waiting; whether it was taken."""
        if not self._mutex.acquire(blocking=False):
            return False
        try:
            fcntl.lockf(self._fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except (BlockingIOError, PermissionError):  # EAGAIN or EACCES: another process has it
            self._mutex.release()
            return False
        except BaseException:
            self._mutex.release()
            raise
        return True

    def release(self) -> None:
        """Hand the writer role to the next waiting writer, and wake the event loops waiting
        for it (:meth:`when_free`)."""
        fcntl.lockf(self._fd, fcntl.LOCK_UN)
        self._mutex.release()
        if self._wake is not None:
            # Full (wake-ups are pending already) or failing: the waiters' fallback still runs,
            # and the transaction this ends is committed whatever the pipe says.
            with contextlib.suppress(OSError):
                os.write(self._wake, b"x")

    def when_free(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        """Call ``callback`` on ``loop`` once a writer has released the role since this call
        (another may have taken it by then: the callback tries again), or after
        :data:`WAKE_FALLBACK` seconds at the latest. The event loop goes on meanwhile."""
        wake_pipe = self._wake
        fired = False

        def wake() -> None:
            nonlocal fired
            if fired:
                return
            fired = True
            fallback.cancel()
            if wake_pipe is not None:
                loop.remove_reader(wake_pipe)
                with contextlib.suppress(BlockingIOError):  # another loop read it first
                    os.read(wake_pipe, _PIPE_CAPACITY)
            callback()

        if wake_pipe is not None:
            loop.add_reader(wake_pipe, wake)
        fallback = loop.call_later(WAKE_FALLBACK, wake)


_writer_locks: dict[str, WriterLock] = {}
_writer_locks_guard = threading.Lock()


def writer_lock(path: str) -> WriterLock:
    """The one :class:`WriterLock` of this process for the database at ``path``: two would
    neither queue each other's threads nor keep each other's POSIX locks."""
    key = os.path.realpath(path)
    with _writer_locks_guard:
        lock = _writer_locks.get(key)
        if lock is None:
            lock = _writer_locks[key] = WriterLock(path)
        return lock


class _WriterRole:
    """SQLite's writer role as the group commit takes it (``group_commit.WriterRole``)."""

    def __init__(self, lock: WriterLock, transaction: Callable[[], Transaction]) -> None:
        self._lock = lock
        self._transaction = transaction

    def claim(self) -> Transaction | None:
        """A direct write transaction holding the role, if it is free now."""
        return self._transaction() if self._lock.try_acquire() else None

    def when_free(self, loop: asyncio.AbstractEventLoop, callback: Callable[[], None]) -> None:
        """See :meth:`WriterLock.when_free`."""
        self._lock.when_free(loop, callback)


def _serialize_writers(engine: Engine, lock: WriterLock) -> None:
    """Hold ``lock`` from each transaction's BEGIN until its connection goes back to the pool,
    which happens right after COMMIT or ROLLBACK."""

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        lock.acquire()
        connection.connection.info["holds_writer_lock"] = True

    def _release(dbapi_connection: Any, record: ConnectionPoolEntry, *_: Any) -> None:
        if record is not None and record.info.pop("holds_writer_lock", False):
            lock.release()

    event.listen(engine, "checkin", _release)
    event.listen(engine, "invalidate", _release)


def _sqlite_path(url: str) -> str | None:
    database = make_url(url).database
    return None if database in (None, "", ":memory:") else database


def create_private_sqlite_file(url: str) -> None:
    """Create an SQLite database's file with mode 0600 before SQLite does (with 0644), so the
    database, and the -wal and -shm files SQLite gives the same mode, are the owner's only."""
    path = _sqlite_path(url) if _is_sqlite(url) else None
    if path is not None and not path.startswith("file:"):
        with contextlib.suppress(FileNotFoundError):  # no directory: SQLite says so itself
            private_file(Path(path))


def _configure_sqlite(engine: Engine, begin_statement: str) -> None:
    """Take transaction control from pysqlite and apply Ostiary's pragmas on every connection."""

    @event.listens_for(engine, "connect")
    def _on_connect(dbapi_connection: Any, record: ConnectionPoolEntry) -> None:
        dbapi_connection.isolation_level = None  # we emit BEGIN ourselves, below
        cursor = dbapi_connection.cursor()
        cursor.execute("PRAGMA journal_mode=WAL")
        cursor.execute("PRAGMA synchronous=NORMAL")
        cursor.execute("PRAGMA foreign_keys=ON")
        cursor.execute("PRAGMA busy_timeout=10000")
        cursor.close()

    @event.listens_for(engine, "begin")
    def _on_begin(connection: Any) -> None:
        connection.exec_driver_sql(begin_statement)


class Database:
    """The engines and session factories of one Ostiary database."""

    def __init__(self, url: str, *, echo: bool = False) -> None:
        self.url = url
        self.is_sqlite = _is_sqlite(url)
        self._writer_lock: WriterLock | None = None
        if self.is_sqlite:
            # Separate engines so that only writers take SQLite's write lock up front.
            self.engine = create_engine(url, echo=echo, pool_size=8, max_overflow=8)
            _configure_sqlite(self.engine, "BEGIN")
            self.write_engine = create_engine(url, echo=echo, pool_size=4, max_overflow=4)
            create_private_sqlite_file(url)  # engines connect lazily: this comes first
            path = _sqlite_path(url)
            if path is not None:
                self._writer_lock = writer_lock(path)
                # Registered first, so the lock is held before BEGIN IMMEDIATE is sent.
                _serialize_writers(self.write_engine, self._writer_lock)
            _configure_sqlite(self.write_engine, "BEGIN IMMEDIATE")
            event.listen(self.write_engine, "checkin", restore_on_checkin)
        else:
            # A server that went away: pre_ping replaces a pooled connection that died while
            # idle (a restart costs no request), and connect_timeout bounds how long a request
            # waits for an unreachable host (libpq would wait forever).
            self.engine = create_engine(
                url,
                echo=echo,
                pool_size=10,
                max_overflow=10,
                pool_pre_ping=True,
                pool_timeout=5,
                connect_args={"connect_timeout": 5},
            )
            self.write_engine = self.engine
        self._readers = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = sessionmaker(self.write_engine, expire_on_commit=False)
        self._lookup_connections = ThreadConnections(self.engine)
        self._write_connections = ThreadConnections(self.write_engine)
        self._dbapi_error: type[Exception] = self.engine.dialect.loaded_dbapi.Error
        self.integrity_error: type[Exception] = self.engine.dialect.loaded_dbapi.IntegrityError
        """The driver's error for a write a constraint refused (a direct write raises it)."""
        # psycopg's pipeline mode needs libpq 14 or later (the binary wheel brings its own).
        self._pipelines = not self.is_sqlite and _pipelines_supported()
        self._prepared: dict[AnySelect, PreparedQuery] = {}
        self._prepared_writes: dict[tuple[Executable, tuple[str, ...]], PreparedSQL] = {}
        role = (
            _WriterRole(self._writer_lock, lambda: self.direct_write(claimed=True))
            if self._writer_lock is not None
            else None
        )
        self._checkpointer: WalCheckpointer | None = None
        self.group_commit = GroupCommit(self.direct_write, threaded=not self.is_sqlite, role=role)
        """Direct writes of concurrent requests committed together (``ostiary.group_commit``)."""

    def _prepared_sql(self, statement: Executable, column_keys: list[str]) -> PreparedSQL:
        is_insert = isinstance(statement, Insert)
        key = (statement, tuple(column_keys) if is_insert else ())
        prepared = self._prepared_writes.get(key)
        if prepared is None:
            prepared = self._prepared_writes[key] = PreparedSQL(
                self.write_engine.dialect, statement, column_keys if is_insert else None
            )
        return prepared

    @contextmanager
    def direct_write(self, *, claimed: bool = False) -> Iterator[DirectTransaction]:
        """A write transaction on a DBAPI connection, for a hot path's few statements: committed
        when the block succeeds, rolled back when it raises. On SQLite it queues on the
        :class:`WriterLock` (unless the caller ``claimed`` it already) and begins IMMEDIATE, like
        a session's write transaction; the lock is released when the transaction ends."""
        lock = self._writer_lock
        if lock is not None and not claimed:
            lock.acquire()
        try:
            connection = self._write_connections.get()
            try:
                if self.is_sqlite:  # pysqlite is in autocommit mode here; begin explicitly
                    checkpointer = self._checkpointer
                    set_commit_checkpoints(
                        connection, checkpointer is None or not checkpointer.working
                    )
                    connection.cursor().execute("BEGIN IMMEDIATE")
                    pipeline: contextlib.AbstractContextManager[Any] = contextlib.nullcontext()
                else:
                    # psycopg's pipeline mode sends a statement whose rows nobody reads (an
                    # INSERT) without waiting for its answer: a group commit's inserts and its
                    # COMMIT then cost one round trip, not one each. An error still surfaces,
                    # at the latest at COMMIT, and rolls the whole transaction back.
                    pipeline = (
                        connection.driver_connection.pipeline()
                        if self._pipelines
                        else contextlib.nullcontext()
                    )
                with pipeline:
                    transaction = DirectTransaction(
                        connection, self._prepared_sql, sole_writer=self.is_sqlite
                    )
                    try:
                        yield transaction
                    finally:
                        transaction.close()
                    connection.commit()
            except self._dbapi_error:
                self._write_connections.discard(connection)
                raise
            except BaseException:
                try:
                    connection.rollback()
                except self._dbapi_error:  # the connection died too: never hand it out again
                    self._write_connections.discard(connection)
                raise
        finally:
            if lock is not None:
                lock.release()

    def prepared(self, statement: AnySelect) -> PreparedQuery:
        """``statement`` as a :class:`PreparedQuery` on this database (compiled once)."""
        query = self._prepared.get(statement)
        if query is None:
            query = self._prepared[statement] = PreparedQuery(self._lookup_connections, statement)
        return query

    @contextmanager
    def unit_of_work(self, *, write: bool) -> Iterator[Session]:
        """One transaction: commit when the block succeeds, roll back when it raises."""
        session = (self._writers if write else self._readers)()
        try:
            yield session
            session.commit()
        except BaseException as error:
            if getattr(error, "keeps_changes", False):
                session.commit()
            else:
                session.rollback()
            raise
        finally:
            session.close()

    def lost_a_race(self, error: BaseException) -> bool:
        """Whether ``error`` (raised through SQLAlchemy or by the driver) ended a transaction that
        lost a race with another, a deadlock that PostgreSQL broke, and may simply be run
        again."""
        cause = getattr(error, "orig", error)
        # A deadlock detected, a serialization failure: psycopg's classes of them share no base
        # of their own.
        sqlstate = (
            getattr(cause, "sqlstate", None) if isinstance(cause, self._dbapi_error) else None
        )
        return not self.is_sqlite and sqlstate in _LOST_RACES

    def ping(self) -> None:
        """One trivial query on this thread's lookup connection; raises when the database
        cannot be reached (a dead connection is replaced once, as for any lookup)."""
        self.prepared(_PING).first()

    def checkpoint_in_background(self, interval: float = 0.2) -> WalCheckpointer | None:
        """On SQLite, checkpoint the WAL on a thread, and no longer in the commits of the direct
        writes, which run on the event loop (``ostiary.wal_checkpoints``): the checkpointer
        (one per database), or None on PostgreSQL. :meth:`checkpoint_in_commits` stops it."""
        if not self.is_sqlite or self._checkpointer is not None:
            return self._checkpointer
        self._checkpointer = WalCheckpointer(self.write_engine, interval)
        self._checkpointer.start()
        return self._checkpointer

    def checkpoint_in_commits(self) -> None:
        """Stop the background checkpoints: the direct writes checkpoint in their commits
        again, as SQLite does by default (each connection once it next writes)."""
        checkpointer, self._checkpointer = self._checkpointer, None
        if checkpointer is not None:
            checkpointer.stop()

    def dispose(self) -> None:
        """Close every pooled connection, and the ones threads keep for lookups and direct
        writes."""
        self._lookup_connections.close()
        self._write_connections.close()
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()
