"""A migrated database of its own for each second-factor test."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ostiary.config import load_settings
from ostiary.migrate import upgrade
from tests.support.factories import Factory


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[Factory]:
    """A factory on a freshly migrated SQLite database."""
    upgrade(load_settings(data_dir=tmp_path).effective_database_url)
    made = Factory(tmp_path)
    yield made
    made.close()
