"""The unit tests' shared fixture: a migrated SQLite database in a file of the test's own."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from ostiary.db import Database
from ostiary.migrate import upgrade


@pytest.fixture
def database(tmp_path: Path) -> Iterator[Database]:
    """A migrated SQLite database in ``tmp_path`` (a real file: WAL, the writer lock), disposed
    after the test; a test module that needs another database defines its own ``database``."""
    url = f"sqlite:///{tmp_path / 'ostiary.db'}"
    upgrade(url)
    made = Database(url)
    yield made
    made.checkpoint_in_commits()  # a checkpointer a test started stops with it
    made.dispose()
