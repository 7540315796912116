"""A migrated database of its own for each usage test: SQLite, and PostgreSQL too when one is
reachable on 127.0.0.1:5432 (the flush's upserts are written per dialect)."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.factories import Factory
from tests.support.postgres import migrated_factory


@pytest.fixture(params=["sqlite", "postgresql"])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """A factory on a freshly migrated database of each dialect."""
    with migrated_factory(request.param, tmp_path, "ostiary_usage") as made:
        yield made
