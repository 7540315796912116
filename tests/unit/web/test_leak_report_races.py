"""A leak report that loses a race (PostgreSQL broke a deadlock by rolling it back) is answered
again at once, not left for its sender to retry (``web.leaks``); any other failure is not."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import psycopg
import pytest
from sqlalchemy import exc

import ostiary.web.leaks
from ostiary.app import create_app
from ostiary.config import load_settings
from ostiary.leaks.services import respond_to_leak
from ostiary.unit import Unit
from tests.support.in_process import InProcessServer
from tests.support.postgres import migrated_factory


@pytest.fixture
def server(tmp_path: Path) -> Iterator[InProcessServer]:
    with migrated_factory("postgresql", tmp_path, "ostiary_leak_race") as factory:
        app = create_app(load_settings(data_dir=tmp_path, database_url=factory.database.url))
        try:
            yield InProcessServer(app, factory)
        finally:
            app.state.services.database.dispose()


def _failing_first(monkeypatch: pytest.MonkeyPatch, failure: Exception, times: int) -> list[int]:
    """Make the report's response raise ``failure`` (after its work, so that the rollback has
    something to undo) the first ``times`` times; the attempts are counted."""
    attempts: list[int] = []

    def respond(unit: Unit, *args: Any, **kwargs: Any) -> bool:
        attempts.append(1)
        answer = respond_to_leak(unit, *args, **kwargs)
        unit.session.flush()
        if len(attempts) <= times:
            raise failure
        return answer

    monkeypatch.setattr(ostiary.web.leaks, "respond_to_leak", respond)
    return attempts


def _deadlock() -> exc.OperationalError:
    return exc.OperationalError("UPDATE ...", {}, psycopg.errors.DeadlockDetected("deadlock"))


def _works(server: InProcessServer) -> bool:
    return server.api("GET", "/account").status_code == 200


def test_a_report_that_lost_a_race_is_answered_again(
    server: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = _failing_first(monkeypatch, _deadlock(), times=2)
    report = {"token": server.owner.api_key, "url": "https://gist.example/leak"}
    assert server.send("POST", "/leaks", json=report).status_code == 202
    assert len(attempts) == 3
    assert not _works(server)  # revoked by the attempt that committed


def test_a_report_that_keeps_losing_is_refused_for_now_not_lost(
    server: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    attempts = _failing_first(monkeypatch, _deadlock(), times=3)
    report = {"token": server.owner.api_key, "url": "https://gist.example/leak"}
    refused = server.send("POST", "/leaks", json=report)
    assert refused.status_code == 503  # the sender may try again
    assert refused.headers["retry-after"]
    assert len(attempts) == 3
    assert _works(server)  # every attempt rolled back whole


def test_any_other_failure_is_not_answered_again(
    server: InProcessServer, monkeypatch: pytest.MonkeyPatch
) -> None:
    lost = exc.OperationalError("SELECT 1", {}, psycopg.OperationalError("server closed"))
    attempts = _failing_first(monkeypatch, lost, times=1)
    report = {"token": server.owner.api_key, "url": "https://gist.example/leak"}
    assert server.send("POST", "/leaks", json=report).status_code == 503
    assert len(attempts) == 1
    assert _works(server)
