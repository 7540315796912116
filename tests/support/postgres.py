"""A database of its own on the machine's PostgreSQL (127.0.0.1:5432), for a test or a module:
skipped when there is none (failed in CI, which must run these), dropped afterwards."""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from ostiary.config import load_settings
from ostiary.migrate import upgrade
from tests.support.factories import Factory

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@contextmanager
def fresh_database(prefix: str = "ostiary_test") -> Iterator[str]:
    """The SQLAlchemy URL of a new, empty database, dropped (connections and all) on exit."""
    import psycopg

    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL on 127.0.0.1:5432: {error}")
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({error})")
    name = f"{prefix}_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@contextmanager
def migrated_factory(dialect: str, data_dir: Path, prefix: str) -> Iterator[Factory]:
    """A factory on a freshly migrated database: SQLite in ``data_dir``, or a fresh PostgreSQL
    database named from ``prefix`` (dropped afterwards). For fixtures run on both dialects."""
    if dialect == "sqlite":
        upgrade(load_settings(data_dir=data_dir).effective_database_url)
        made = Factory(data_dir)
        try:
            yield made
        finally:
            made.close()
        return
    with fresh_database(prefix) as url:
        upgrade(url)
        made = Factory(data_dir, database_url=url)
        try:
            yield made
        finally:
            made.close()


def wait_for_lock_waiters(
    url: str, count: int, *, give_up: Callable[[], bool] = lambda: False, timeout: float = 10.0
) -> bool:
    """Whether ``count`` sessions of the database at ``url`` (a SQLAlchemy URL) came to wait
    for a lock (a row's, a transaction's, an advisory one) within ``timeout`` seconds; False
    as soon as ``give_up`` says so. What a race test waits for before it lets the holder go:
    the request it holds off is then known to be queued, not merely slow."""
    import psycopg

    query = (
        "SELECT count(*) FROM pg_stat_activity"
        " WHERE datname = current_database() AND wait_event_type = 'Lock'"
    )
    deadline = time.monotonic() + timeout
    with psycopg.connect(url.replace("+psycopg", ""), autocommit=True) as connection:
        while time.monotonic() < deadline and not give_up():
            row = connection.execute(query).fetchone()
            if row is not None and row[0] >= count:
                return True
            time.sleep(0.01)
    return False
