"""Migration 0017 on SQLite with data: an existing authorization keeps its row and gains an
empty suspension; the migration goes down and up again."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from ostiary.migrate import alembic_config, upgrade

NOW = "2026-12-01 09:00:00"


def test_0017_adds_the_alerts_and_an_empty_suspension(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    upgrade(url, "0014")
    engine = sa.create_engine(url)
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO accounts (id, email, allow_tracking, beta, created_at, updated_at)"
                " VALUES ('acct', 'a@example.com', 0, 0, :now, :now)"
            ),
            {"now": NOW},
        )
        db.execute(
            sa.text(
                "INSERT INTO authorizations (id, account_id, kind, scopes, description,"
                " refresh_generation, created_at, updated_at)"
                " VALUES ('authz', 'acct', 'personal', '[\"global\"]', 'ci', 0, :now, :now)"
            ),
            {"now": NOW},
        )
    upgrade(url, "0017")
    with engine.connect() as db:
        row = db.execute(
            sa.text("SELECT description, suspended_at, suspended_by FROM authorizations")
        ).one()
        assert tuple(row) == ("ci", None, None)
        assert db.execute(sa.text("SELECT count(*) FROM alerts")).scalar() == 0
    command.downgrade(alembic_config(url), "0014")
    with engine.connect() as db:
        assert "alerts" not in sa.inspect(db).get_table_names()
        assert db.execute(sa.text("SELECT description FROM authorizations")).scalar() == "ci"
    upgrade(url, "0017")
    engine.dispose()
