"""releases keep their config vars; add-ons carry their attachment's id and name

Revision ID: 0011
Revises: 0010
Create Date: 2026-12-01 10:00:00

``GET /apps/{app}/releases/{v}/config-vars`` answers the config as of a release, so each release
keeps a copy. Releases made before this migration were not recorded with theirs: each app's
latest release gets the app's current config (which it is), older ones an empty map.

Each add-on has one attachment to its own app (``GET /addon-attachments``); its name (DATABASE,
REDIS, ...) is unique within the app, so existing add-ons are named in the order they were made:
the first of a kind on an app gets the plain name, later ones ``_2``, ``_3``...
"""

from __future__ import annotations

import uuid
from collections import defaultdict

import sqlalchemy as sa
from alembic import op

revision = "0011"
down_revision = "0010"
branch_labels = None
depends_on = None

# The catalogue's plans as of this migration, by id prefix: the attachment name of each service.
_ATTACHMENT_BY_PLAN_PREFIX = {
    "a1b2c3d4-0001-": "DATABASE",
    "a1b2c3d4-0002-": "REDIS",
    "a1b2c3d4-0003-": "PAPERTRAIL",
}

_releases = sa.table(
    "releases",
    sa.column("id", sa.String),
    sa.column("app_id", sa.String),
    sa.column("version", sa.Integer),
    sa.column("config_vars", sa.JSON),
)
_config_vars = sa.table(
    "config_vars", sa.column("app_id", sa.String), sa.column("key"), sa.column("value")
)
_addons = sa.table(
    "addons",
    sa.column("id", sa.String),
    sa.column("app_id", sa.String),
    sa.column("plan_id", sa.String),
    sa.column("created_at"),
    sa.column("attachment_id", sa.String),
    sa.column("attachment_name", sa.String),
)


def _backfill_release_config(connection: sa.Connection) -> None:
    connection.execute(sa.update(_releases).values(config_vars={}))
    config: dict[str, dict[str, str]] = defaultdict(dict)
    for app_id, key, value in connection.execute(
        sa.select(_config_vars.c.app_id, _config_vars.c.key, _config_vars.c.value)
    ):
        config[app_id][key] = value
    latest = (
        sa.select(_releases.c.app_id, sa.func.max(_releases.c.version).label("version"))
        .group_by(_releases.c.app_id)
        .subquery()
    )
    rows = connection.execute(
        sa.select(_releases.c.id, _releases.c.app_id).join(
            latest,
            (latest.c.app_id == _releases.c.app_id) & (latest.c.version == _releases.c.version),
        )
    ).all()
    for release_id, app_id in rows:
        connection.execute(
            sa.update(_releases)
            .where(_releases.c.id == release_id)
            .values(config_vars=dict(sorted(config[app_id].items())))
        )


def _attachment_base(plan_id: str) -> str:
    for prefix, name in _ATTACHMENT_BY_PLAN_PREFIX.items():
        if plan_id.startswith(prefix):
            return name
    return "ADDON"


def _backfill_attachments(connection: sa.Connection) -> None:
    taken: dict[str, set[str]] = defaultdict(set)
    rows = connection.execute(
        sa.select(_addons.c.id, _addons.c.app_id, _addons.c.plan_id).order_by(
            _addons.c.created_at, _addons.c.id
        )
    ).all()
    for addon_id, app_id, plan_id in rows:
        base = name = _attachment_base(plan_id)
        number = 1
        while name in taken[app_id]:
            number += 1
            name = f"{base}_{number}"
        taken[app_id].add(name)
        connection.execute(
            sa.update(_addons)
            .where(_addons.c.id == addon_id)
            .values(attachment_id=str(uuid.uuid4()), attachment_name=name)
        )


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("releases") as batch:
        batch.add_column(sa.Column("config_vars", sa.JSON(), nullable=True))
    with op.batch_alter_table("addons") as batch:
        batch.add_column(sa.Column("attachment_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("attachment_name", sa.String(length=64), nullable=True))
    connection = op.get_bind()
    _backfill_release_config(connection)
    _backfill_attachments(connection)
    with op.batch_alter_table("releases") as batch:
        batch.alter_column("config_vars", existing_type=sa.JSON(), nullable=False)
    with op.batch_alter_table("addons") as batch:
        batch.alter_column("attachment_id", existing_type=sa.String(length=36), nullable=False)
        batch.alter_column("attachment_name", existing_type=sa.String(length=64), nullable=False)
        batch.create_unique_constraint("uq_addons_attachment_id", ["attachment_id"])
        batch.create_unique_constraint("uq_addons_app_id", ["app_id", "attachment_name"])


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("addons") as batch:
        batch.drop_constraint("uq_addons_app_id", type_="unique")
        batch.drop_constraint("uq_addons_attachment_id", type_="unique")
        batch.drop_column("attachment_name")
        batch.drop_column("attachment_id")
    with op.batch_alter_table("releases") as batch:
        batch.drop_column("config_vars")
