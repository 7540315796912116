"""A database of its own on the machine's PostgreSQL (127.0.0.1:5432), for a test or a module:
skipped when there is none (failed in CI, which must run these), dropped afterwards."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
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
