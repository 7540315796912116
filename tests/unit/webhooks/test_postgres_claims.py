"""On PostgreSQL: migration 0018 applies, and senders claiming at once (FOR UPDATE SKIP LOCKED)
send each delivery exactly once. Skipped with the reason when PostgreSQL is not on
127.0.0.1:5432 (a failure under CI, as the other PostgreSQL tests)."""

from __future__ import annotations

import os
import secrets
import threading
from collections.abc import Iterator

import pytest

from ostiary.accounts.models import Account
from ostiary.db import Database
from ostiary.migrate import upgrade
from ostiary.webhooks.dispatch import deliver_due
from ostiary.webhooks.secrets import SecretBox
from ostiary.webhooks.services import enqueue_deliveries
from tests.support.webhook_receiver import webhook_receiver
from tests.unit.webhooks.conftest import SERVER_SECRET, World, logged

pytestmark = pytest.mark.postgres
ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture
def pg_world() -> Iterator[World]:
    import psycopg

    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL on 127.0.0.1:5432: {error}")
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({error})")
    name = f"ostiary_webhooks_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    url = f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    try:
        upgrade(url)
        database = Database(url)
        with database.unit_of_work(write=True) as session:
            alice, bob = Account(email="alice@example.com"), Account(email="bob@example.com")
            session.add_all([alice, bob])
            session.flush()
            ids = alice.id, bob.id
        yield World(database, SecretBox(SERVER_SECRET), *ids)
        database.dispose()
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


def test_concurrent_senders_on_postgres_send_each_delivery_once(pg_world: World) -> None:
    with webhook_receiver() as receiver:
        pg_world.webhook(pg_world.alice, receiver.url, ["event"])
        with pg_world.database.unit_of_work(write=True) as session:
            assert enqueue_deliveries(session, [logged(pg_world.alice) for _ in range(40)]) == 40
        barrier = threading.Barrier(4)

        def sender() -> None:
            barrier.wait()
            while deliver_due(pg_world.database, pg_world.box, allow_loopback=True).delivered:
                pass

        threads = [threading.Thread(target=sender) for _ in range(4)]
        for thread in threads:
            thread.start()
        for thread in threads:
            thread.join(60)
    ids = [r.headers["heroku-webhook-id"] for r in receiver.received]
    assert len(ids) == 40
    assert len(set(ids)) == 40
