"""Migration 0025 on SQLite with data: an existing account counts as verified (since its
creation) and is enabled, queued mail is not sealed; the migration goes down and up again."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa
from alembic import command

from ostiary.migrate import alembic_config, upgrade

NOW = "2026-12-01 09:00:00"


def test_0025_verifies_existing_accounts_and_adds_the_links(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    upgrade(url, "0022")
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
                "INSERT INTO mail_outbox (id, to_address, subject, text_body, html_body, status,"
                " num_attempts, give_up_at, created_at)"
                " VALUES ('m', 'a@example.com', 's', 't', 'h', 'pending', 0, :now, :now)"
            ),
            {"now": NOW},
        )
    upgrade(url, "0025")
    with engine.connect() as db:
        row = db.execute(sa.text("SELECT email_verified_at, disabled_at FROM accounts")).one()
        assert str(row[0]).startswith("2026-12-01 09:00:00")
        assert row[1] is None
        assert db.execute(sa.text("SELECT sealed FROM mail_outbox")).scalar() in (0, False)
        assert db.execute(sa.text("SELECT count(*) FROM email_links")).scalar() == 0
    command.downgrade(alembic_config(url), "0022")
    with engine.connect() as db:
        assert "email_links" not in sa.inspect(db).get_table_names()
        columns = {c["name"] for c in sa.inspect(db).get_columns("accounts")}
        assert "email_verified_at" not in columns
        assert db.execute(sa.text("SELECT email FROM accounts")).scalar() == "a@example.com"
    upgrade(url, "0025")
    engine.dispose()
