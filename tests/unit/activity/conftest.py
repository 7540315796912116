"""The activity log's unit tests: a chain key, and events recorded as requests record them (the
migrated SQLite database is the unit tests' own, tests/unit/conftest.py)."""

from __future__ import annotations

from collections.abc import Callable

import pytest

from ostiary.activity.chain import chain_key
from ostiary.db import Database
from ostiary.events import RequestContext, record_event

KEY = chain_key(b"k" * 48)


@pytest.fixture
def record(database: Database) -> Callable[..., None]:
    """Record ``count`` events, each in a transaction of its own, as a request would."""

    def write(count: int = 1, action: str = "app:create", actor_id: str = "acct-1") -> None:
        context = RequestContext(ip="203.0.113.5", user_agent="curl/8.5", request_id="req-1")
        for _ in range(count):
            with database.unit_of_work(write=True) as session:
                record_event(session, context, action, actor_id=actor_id, details={"n": 1})

    return write
