"""A migrated database of its own for each usage test: SQLite, and PostgreSQL too when one is
reachable on 127.0.0.1:5432 (the flush's upserts are written per dialect)."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from pathlib import Path

import pytest

from ostiary.config import load_settings
from ostiary.migrate import upgrade
from tests.support.factories import Factory

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


def _postgres_database(tmp_path: Path) -> Iterator[str]:
    import psycopg

    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL on 127.0.0.1:5432: {error}")
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({error})")
    name = f"ostiary_usage_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(params=["sqlite", "postgresql"])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """A factory on a freshly migrated database of each dialect."""
    if request.param == "sqlite":
        upgrade(load_settings(data_dir=tmp_path).effective_database_url)
        made = Factory(tmp_path)
        yield made
        made.close()
        return
    for url in _postgres_database(tmp_path):
        upgrade(url)
        made = Factory(tmp_path, database_url=url)
        yield made
        made.close()
