"""Unauthenticated requests cannot grow the database without bound (issue 10, item 11): a real
two-worker server purges expired device codes, CLI logins, codes and sessions by itself, every
OSTIARY_PERIODIC_INTERVAL seconds, and keeps everything else."""

from __future__ import annotations

import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest

from ostiary.db import Base
from ostiary.tokens.models import DeviceAuthorization
from tests.support.expiring import present, seed
from tests.support.factories import Factory
from tests.support.pg_cluster import PrivateCluster
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def purging_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("purge"), settings={"OSTIARY_PERIODIC_INTERVAL": "1"}, workers=2
    )
    yield server
    server.stop()


def _wait_until_gone(factory: Factory, doomed: dict[type[Base], list[str]]) -> None:
    deadline = time.monotonic() + 60
    while any(present(factory.database, model, ids) for model, ids in doomed.items()):
        assert time.monotonic() < deadline, "the expired rows were not purged within a minute"
        time.sleep(0.2)


def test_expired_rows_vanish_and_live_ones_stay(purging_server: ServerProcess) -> None:
    factory = Factory(Path(purging_server.data_dir))
    try:
        account = factory.account("purge")
        seeded = seed(factory.database, account.id)
        _wait_until_gone(factory, seeded.doomed)
        for model, ids in seeded.kept.items():
            assert present(factory.database, model, ids) == set(ids), model
    finally:
        factory.close()


def test_a_flood_of_cli_logins_is_purged_once_expired(purging_server: ServerProcess) -> None:
    """What an anonymous client stores goes away by itself after it expires (the rows are aged
    here instead of waiting an hour)."""
    factory = Factory(Path(purging_server.data_dir))
    try:
        made = [
            httpx.post(f"{purging_server.url}/auth", json={"description": f"flood {n}"}).json()
            for n in range(5)
        ]
        ids = [str(login["cli_url"]).rsplit("/", 1)[1] for login in made]
        with factory.database.unit_of_work(write=True) as session:
            for login_id in ids:
                row = session.get(DeviceAuthorization, login_id)
                assert row is not None
                row.expires_at -= timedelta(hours=2)
        _wait_until_gone(factory, {DeviceAuthorization: ids})
    finally:
        factory.close()


def test_the_purge_survives_the_database_going_away(tmp_path: Path) -> None:
    """PostgreSQL stopped under a running server: the job fails, is logged, and the server stays
    up; when the database returns, the next ticks purge again without a restart."""
    cluster = PrivateCluster()
    try:
        cluster.start()
        url = cluster.url("postgres")
        server = start_server(
            tmp_path / "data",
            settings={"OSTIARY_DATABASE_URL": url, "OSTIARY_PERIODIC_INTERVAL": "1"},
        )
        factory = Factory(server.data_dir, database_url=url)
        try:
            account = factory.account("outage")
            cluster.stop()
            deadline = time.monotonic() + 60
            while "periodic job 'purge expired' failed" not in server.log():
                assert time.monotonic() < deadline, server.log()
                time.sleep(0.2)
            assert server.process is not None
            assert server.process.poll() is None  # still serving
            httpx.get(f"{server.url}/health", timeout=10)  # answers (whatever it says)
            cluster.start()
            factory.database.dispose()  # the test's own pooled connections died with it
            seeded = seed(factory.database, account.id)
            _wait_until_gone(factory, seeded.doomed)
            for model, ids in seeded.kept.items():
                assert present(factory.database, model, ids) == set(ids), model
        finally:
            factory.close()
            server.stop()
    finally:
        cluster.destroy()
