"""Migration 0011 on a database with data: each app's latest release gets the current config
vars (older ones an empty map), and existing add-ons get attachment names unique per app."""

from __future__ import annotations

import json
from pathlib import Path

import sqlalchemy as sa

from ostiary.migrate import upgrade

NOW = "2026-12-01 09:00:00"
POSTGRES = "a1b2c3d4-0001-4000-8000-000000000001"
REDIS = "a1b2c3d4-0002-4000-8000-000000000001"


def _seed(engine: sa.Engine) -> None:
    with engine.begin() as db:
        db.execute(
            sa.text(
                "INSERT INTO accounts (id, email, allow_tracking, beta, created_at, updated_at)"
                " VALUES ('acct', 'a@example.com', 0, 0, :now, :now)"
            ),
            {"now": NOW},
        )
        for app in ("one", "two"):
            db.execute(
                sa.text(
                    "INSERT INTO apps (id, name, owner_id, region, stack, maintenance,"
                    " created_at, updated_at) VALUES (:id, :id, 'acct', 'us', 'heroku-24', 0,"
                    " :now, :now)"
                ),
                {"id": app, "now": NOW},
            )
        for app, version in (("one", 1), ("one", 2), ("two", 1)):
            db.execute(
                sa.text(
                    "INSERT INTO releases (id, app_id, version, description, addon_plan_names,"
                    " created_at, updated_at) VALUES (:id, :app, :v, 'r', '[]', :now, :now)"
                ),
                {"id": f"{app}-{version}", "app": app, "v": version, "now": NOW},
            )
        db.execute(sa.text("INSERT INTO config_vars (app_id, key, value) VALUES ('one', 'B', '2')"))
        db.execute(
            sa.text("INSERT INTO config_vars (app_id, key, value) VALUES ('one', 'A', 'secret')")
        )
        for addon, app, plan, minute in (
            ("pg1", "one", POSTGRES, 1),
            ("pg2", "one", POSTGRES, 2),
            ("rd1", "one", REDIS, 3),
            ("pg3", "two", POSTGRES, 4),
        ):
            db.execute(
                sa.text(
                    "INSERT INTO addons (id, name, app_id, plan_id, provider_id, created_at,"
                    " updated_at) VALUES (:id, :id, :app, :plan, :id, :at, :at)"
                ),
                {"id": addon, "app": app, "plan": plan, "at": f"2026-12-01 09:0{minute}:00"},
            )


def test_backfill_of_release_config_and_attachment_names(tmp_path: Path) -> None:
    url = f"sqlite:///{tmp_path / 'data.db'}"
    upgrade(url, "0010")
    engine = sa.create_engine(url)
    _seed(engine)
    upgrade(url, "0011")
    with engine.connect() as db:
        releases = {
            row.id: json.loads(row.config_vars)
            for row in db.execute(sa.text("SELECT id, config_vars FROM releases"))
        }
        addons = {
            row.id: (row.attachment_name, row.attachment_id)
            for row in db.execute(sa.text("SELECT * FROM addons"))
        }
    engine.dispose()
    assert releases == {"one-1": {}, "one-2": {"A": "secret", "B": "2"}, "two-1": {}}
    assert {addon: name for addon, (name, _) in addons.items()} == {
        "pg1": "DATABASE",
        "pg2": "DATABASE_2",
        "rd1": "REDIS",
        "pg3": "DATABASE",
    }
    assert len({attachment_id for _, attachment_id in addons.values()}) == 4
