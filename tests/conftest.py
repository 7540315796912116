"""Shared fixtures: one real server per test session (per xdist worker), and data factories."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.support.factories import Factory, UserAccount
from tests.support.private_redis import PrivateRedis
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="session")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """An Ostiary server over plain HTTP on 127.0.0.1 with an SQLite database; webhooks to
    loopback allowed (the tests' receivers run here)."""
    process = start_server(
        tmp_path_factory.mktemp("server"), settings={"OSTIARY_WEBHOOK_ALLOW_LOOPBACK": "true"}
    )
    yield process
    process.stop()


@pytest.fixture(scope="session")
def factory(server: ServerProcess) -> Iterator[Factory]:
    """Makes accounts and tokens in the session server's database."""
    made = Factory(server.data_dir)
    yield made
    made.close()


@pytest.fixture
def account(factory: Factory) -> UserAccount:
    """A fresh account on the session server."""
    return factory.account()


@pytest.fixture
def other_account(factory: Factory) -> UserAccount:
    """A second, unrelated account."""
    return factory.account("other")


@pytest.fixture(scope="session")
def _session_redis() -> Iterator[PrivateRedis]:
    made = PrivateRedis()
    made.start()
    yield made
    made.destroy()


@pytest.fixture
def redis_server(_session_redis: PrivateRedis) -> Iterator[PrivateRedis]:
    """A private, empty Redis; running again after the test, should the test stop it."""
    import redis

    with redis.Redis(port=_session_redis.port) as client:
        client.flushall()
    yield _session_redis
    if not _session_redis.running:
        _session_redis.start()


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark every test under functional/ as needing a server process."""
    for item in items:
        if Path(str(item.fspath)).parent.name == "functional":
            item.add_marker(pytest.mark.server)
