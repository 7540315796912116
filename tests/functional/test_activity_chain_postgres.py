"""The activity log's chain on PostgreSQL (a private cluster): sealers in several threads at once
give each event one place (the advisory lock), ``audit verify``'s checks catch an edit, a
deletion and a swap done directly in the database, and retention keeps the chain verifiable."""

from __future__ import annotations

import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import text

from ostiary.activity.chain import chain_key
from ostiary.activity.services import prune_events, seal_events
from ostiary.activity.verify import ChainReport, verify_chain
from ostiary.clock import utcnow
from ostiary.db import Database
from ostiary.events import RequestContext, record_event
from ostiary.migrate import upgrade
from tests.support.factories import Factory
from tests.support.pg_cluster import PrivateCluster
from tests.support.server import run_cli, start_server

KEY = chain_key(b"p" * 48)


@pytest.fixture(scope="module")
def cluster() -> Iterator[PrivateCluster]:
    made = PrivateCluster()
    try:
        made.start()
        yield made
    finally:
        made.destroy()


@pytest.fixture
def database(cluster: PrivateCluster, request: pytest.FixtureRequest) -> Iterator[Database]:
    url = cluster.create_database(f"chain_{abs(hash(request.node.name)) % 10**8}")
    upgrade(url)
    made = Database(url)
    yield made
    made.dispose()


def _record(database: Database, count: int) -> None:
    context = RequestContext(ip="192.0.2.1", user_agent="pg-test", request_id="r")
    for _ in range(count):
        with database.unit_of_work(write=True) as session:
            record_event(session, context, "app:create", actor_id="acct", details={"k": "v"})


def _verify(database: Database) -> ChainReport:
    with database.unit_of_work(write=False) as session:
        return verify_chain(session, KEY)


def _sql(database: Database, statement: str, **params: object) -> None:
    with database.engine.begin() as connection:
        connection.execute(text(statement), params)


def test_concurrent_sealers_give_every_event_one_place(database: Database) -> None:
    _record(database, 60)
    with ThreadPoolExecutor(4) as pool:
        sealed = list(pool.map(lambda _: seal_events(database, KEY, batch_size=7), range(4)))
    assert sum(sealed) == 60
    report = _verify(database)
    assert report.intact, report
    assert (report.checked, report.head_seq, report.unsealed) == (60, 60, 0)


def test_tampering_is_caught_on_postgresql(database: Database) -> None:
    _record(database, 6)
    seal_events(database, KEY)
    _sql(database, "UPDATE events SET seq = -1 WHERE seq = 2")
    _sql(database, "UPDATE events SET seq = 2 WHERE seq = 3")
    _sql(database, "UPDATE events SET seq = 3 WHERE seq = -1")
    assert (_verify(database).problem, _verify(database).seq) == ("reordered", 2)
    _sql(database, "UPDATE events SET seq = -1 WHERE seq = 2")
    _sql(database, "UPDATE events SET seq = 2 WHERE seq = 3")
    _sql(database, "UPDATE events SET seq = 3 WHERE seq = -1")
    assert _verify(database).intact
    _sql(database, "UPDATE events SET user_agent = 'forged' WHERE seq = 4")
    assert (_verify(database).problem, _verify(database).seq) == ("modified", 4)
    _sql(database, "DELETE FROM events WHERE seq = 4")
    assert (_verify(database).problem, _verify(database).seq) == ("removed", 4)


def test_retention_on_postgresql_keeps_the_chain_verifiable(database: Database) -> None:
    _record(database, 5)
    old = utcnow() - timedelta(days=30)
    _sql(database, "UPDATE events SET created_at = :old", old=old.replace(tzinfo=None))
    seal_events(database, KEY, now=old)  # aged before sealing: within the grace of "then"
    _record(database, 2)
    seal_events(database, KEY)
    assert prune_events(database, 7, key=KEY) == 5
    report = _verify(database)
    assert report.intact, report
    assert (report.anchor_seq, report.checked) == (5, 2)


def test_a_server_on_postgresql_lists_exports_seals_and_verifies(
    cluster: PrivateCluster, tmp_path: Path
) -> None:
    url = cluster.create_database("activity_server")
    server = start_server(
        tmp_path / "pg-server",
        settings={"OSTIARY_DATABASE_URL": url, "OSTIARY_USAGE_FLUSH_SECONDS": "0.5"},
        workers=2,
    )
    factory = Factory(server.data_dir, database_url=url)
    try:
        user = factory.account("pg-activity")
        with server.client(user.api_key) as api:
            for _ in range(3):
                assert api.post("/apps").status_code == 201
            events = api.get("/account/events", params={"action": "app:*"}).json()
            assert [e["action"] for e in events] == ["app:create"] * 3
            exported = api.get("/account/events", headers={"Accept": "application/x-ndjson"})
            assert len(exported.text.splitlines()) == len(api.get("/account/events").json())
            deadline = time.monotonic() + 20
            while any(e["seq"] is None for e in api.get("/account/events").json()):
                assert time.monotonic() < deadline, "not sealed"
                time.sleep(0.3)
        verified = run_cli("audit", "verify", env=server.env)
        assert verified.returncode == 0, verified.stdout + verified.stderr
        assert "Intact" in verified.stdout
    finally:
        factory.close()
        server.stop()
