"""Database access: engines, the declarative base, and the per-request unit of work.

One transaction per request: services add and change objects in the session they are given and
never commit; :meth:`Database.unit_of_work` commits once when the request's work succeeded and rolls
back otherwise, except for an error marked ``keeps_changes`` (a revocation that answers an attack
must stand although the request fails).

SQLite is the embedded default. Its writers are serialized with ``BEGIN IMMEDIATE`` (the SQLite
form of locking the rows a write touches), so a read-then-write transaction never fails half-way
with ``database is locked``; readers use a deferred ``BEGIN`` and never wait. PostgreSQL uses plain
transactions and ``SELECT ... FOR UPDATE`` where services ask for a lock.
"""

from __future__ import annotations

import uuid
from collections.abc import Iterator
from contextlib import contextmanager
from datetime import UTC, datetime
from typing import Any, ClassVar

from sqlalchemy import DateTime, Engine, MetaData, String, create_engine, event
from sqlalchemy.engine import Dialect
from sqlalchemy.orm import DeclarativeBase, Session, sessionmaker
from sqlalchemy.pool import ConnectionPoolEntry
from sqlalchemy.types import TypeDecorator

NAMING_CONVENTION = {
    "ix": "ix_%(column_0_label)s",
    "uq": "uq_%(table_name)s_%(column_0_name)s",
    "ck": "ck_%(table_name)s_%(constraint_name)s",
    "fk": "fk_%(table_name)s_%(column_0_name)s_%(referred_table_name)s",
    "pk": "pk_%(table_name)s",
}


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


def new_id() -> str:
    """A new random UUID in its canonical text form (Heroku ids are UUIDs)."""
    return str(uuid.uuid4())


def _is_sqlite(url: str) -> bool:
    return url.startswith("sqlite")


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
        if self.is_sqlite:
            # Separate engines so that only writers take SQLite's write lock up front.
            self.engine = create_engine(url, echo=echo, pool_size=8, max_overflow=8)
            _configure_sqlite(self.engine, "BEGIN")
            self.write_engine = create_engine(url, echo=echo, pool_size=4, max_overflow=4)
            _configure_sqlite(self.write_engine, "BEGIN IMMEDIATE")
        else:
            self.engine = create_engine(url, echo=echo, pool_size=10, max_overflow=10)
            self.write_engine = self.engine
        self._readers = sessionmaker(self.engine, expire_on_commit=False)
        self._writers = sessionmaker(self.write_engine, expire_on_commit=False)

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

    def dispose(self) -> None:
        """Close every pooled connection."""
        self.engine.dispose()
        if self.write_engine is not self.engine:
            self.write_engine.dispose()
