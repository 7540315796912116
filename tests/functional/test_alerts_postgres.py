"""Alerts on PostgreSQL with two workers: a dormant credential and a revoked token presented
many times each raise one alert (the unique finding holds across workers: ON CONFLICT DO
NOTHING), suspension and reinstating work, and migration 0017 goes down and up again."""

from __future__ import annotations

import os
import secrets
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
import sqlalchemy as sa
from alembic import command
from sqlalchemy import func, select, update

from ostiary.alerts.models import Alert
from ostiary.clock import utcnow
from ostiary.events import Event
from ostiary.migrate import alembic_config, upgrade
from ostiary.tokens.models import Authorization
from tests.support.factories import Factory
from tests.support.server import ServerProcess, start_server

ADMIN_URL = "postgresql://postgres@127.0.0.1:5432/postgres"


@pytest.fixture(scope="module")
def pg_url() -> Iterator[str]:
    import psycopg

    try:
        admin = psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=3)
    except psycopg.OperationalError as error:
        if os.environ.get("CI"):
            pytest.fail(f"CI needs PostgreSQL on 127.0.0.1:5432: {error}")
        pytest.skip(f"PostgreSQL is not reachable on 127.0.0.1:5432 ({error})")
    name = f"ostiary_alerts_{secrets.token_hex(4)}"
    admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield f"postgresql+psycopg://postgres@127.0.0.1:5432/{name}"
    finally:
        admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
        admin.close()


@pytest.fixture(scope="module")
def pg_server(pg_url: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("pg-alerts"), settings={"OSTIARY_DATABASE_URL": pg_url}, workers=2
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def pg_factory(pg_server: ServerProcess, pg_url: str) -> Iterator[Factory]:
    factory = Factory(Path(pg_server.data_dir), database_url=pg_url)
    yield factory
    factory.close()


def _counts(factory: Factory, authorization_id: str, rule: str) -> tuple[int, int]:
    with factory.database.unit_of_work(write=False) as session:
        alerts = session.scalar(
            select(func.count())
            .select_from(Alert)
            .where(Alert.authorization_id == authorization_id, Alert.rule == rule)
        )
        events = session.scalar(
            select(func.count())
            .select_from(Event)
            .where(Event.target_id == authorization_id, Event.action == f"alert:{rule}")
        )
    return int(alerts or 0), int(events or 0)


def test_alerts_once_and_suspension_on_postgres(
    pg_server: ServerProcess, pg_factory: Factory
) -> None:
    owner = pg_factory.account()
    with pg_server.client(owner.api_key) as api:
        api.patch("/account/alert-policy", json={"suspend_on": ["dormant-use"]})
    dormant_id, dormant = pg_factory.token(owner, ["global"])
    dead_id, dead = pg_factory.token(owner, ["global"])
    with pg_factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(Authorization)
            .where(Authorization.id == dormant_id)
            .values(last_used_at=utcnow() - timedelta(days=60))
        )
        session.execute(
            update(Authorization).where(Authorization.id == dead_id).values(revoked_at=utcnow())
        )
    # New connections each time, so both workers see the requests.
    for _ in range(8):
        with pg_server.client(dead) as client:
            assert client.get("/account").status_code == 401
    assert _counts(pg_factory, dead_id, "dead-credential") == (1, 1)
    for _ in range(2):
        with pg_server.client(dormant) as client:
            refused = client.get("/account")
            assert refused.status_code == 401
            assert "suspended" in refused.json()["message"]
    assert _counts(pg_factory, dormant_id, "dormant-use") == (1, 1)
    with pg_server.client(owner.api_key) as api:
        assert [a["rule"] for a in api.get("/account/alerts").json()] == [
            "dormant-use",
            "dead-credential",
        ]
        reinstated = api.post(f"/oauth/authorizations/{dormant_id}/actions/reinstate")
        assert reinstated.status_code == 200
    with pg_server.client(dormant) as client:
        assert client.get("/account").status_code == 200


def test_migration_0017_down_and_up_on_postgres(pg_url: str, pg_factory: Factory) -> None:
    config = alembic_config(pg_url)
    command.downgrade(config, "0014")
    engine = sa.create_engine(pg_url)
    try:
        with engine.connect() as db:
            names = set(sa.inspect(db).get_table_names())
            columns = {c["name"] for c in sa.inspect(db).get_columns("authorizations")}
        assert "alerts" not in names
        assert "alert_policies" not in names
        assert "suspended_at" not in columns
        upgrade(pg_url)
        with engine.connect() as db:
            names = set(sa.inspect(db).get_table_names())
            columns = {c["name"] for c in sa.inspect(db).get_columns("authorizations")}
        assert {"alerts", "alert_policies"} <= names
        assert {"suspended_at", "suspended_by"} <= columns
    finally:
        engine.dispose()
