"""A migrated database of its own for each usage test: SQLite, and PostgreSQL too when one is
reachable on 127.0.0.1:5432 (the flush's upserts are written per dialect)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ostiary.config import load_settings
from ostiary.migrate import upgrade
from tests.support.factories import Factory
from tests.support.postgres import fresh_database


@pytest.fixture(params=["sqlite", "postgresql"])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """A factory on a freshly migrated database of each dialect."""
    if request.param == "sqlite":
        upgrade(load_settings(data_dir=tmp_path).effective_database_url)
        made = Factory(tmp_path)
        yield made
        made.close()
        return
    with fresh_database("ostiary_usage") as url:
        upgrade(url)
        made = Factory(tmp_path, database_url=url)
        yield made
        made.close()
