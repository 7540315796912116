"""Migration 0015 on a database with events: they stay, marked successes, unsealed, and the first
sealing runs chain them oldest first; the chain starts at the genesis."""

from __future__ import annotations

from pathlib import Path

import sqlalchemy as sa

from ostiary.activity.chain import chain_key
from ostiary.activity.services import seal_events
from ostiary.activity.verify import verify_chain
from ostiary.db import Database
from ostiary.migrate import upgrade

KEY = chain_key(b"m" * 48)


def test_existing_events_are_kept_and_sealed_after_the_migration(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'm.db'}"
    upgrade(url, "0014")
    engine = sa.create_engine(url)
    with engine.begin() as db:
        for n, at in ((1, "2026-11-30 10:00:00"), (2, "2026-11-29 10:00:00")):
            db.execute(
                sa.text(
                    "INSERT INTO events (id, created_at, actor_id, action, details)"
                    " VALUES (:id, :at, 'acct', 'app:create', '{}')"
                ),
                {"id": f"old-{n}", "at": at},
            )
    engine.dispose()
    upgrade(url)
    database = Database(url)
    try:
        with database.write_engine.begin() as db:
            rows = db.execute(sa.text("SELECT id, outcome, seq FROM events ORDER BY id")).all()
            chain = db.execute(sa.text("SELECT head_seq, anchor_hash FROM event_chain")).one()
        assert [tuple(r) for r in rows] == [("old-1", "success", None), ("old-2", "success", None)]
        assert tuple(chain) == (0, "0" * 64)
        assert seal_events(database, KEY) == 2
        with database.write_engine.begin() as db:
            order = db.execute(sa.text("SELECT id FROM events ORDER BY seq")).scalars().all()
        assert order == ["old-2", "old-1"]  # oldest first
        with database.unit_of_work(write=False) as session:
            assert verify_chain(session, KEY).intact
    finally:
        database.dispose()
