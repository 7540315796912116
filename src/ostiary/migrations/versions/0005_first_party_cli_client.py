"""first-party clients: oauth_clients.owner_id may be empty; register the Ostiary CLI

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-28 16:10:00
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

from ostiary.db import UTCDateTime
from ostiary.oauth_clients.first_party import CLI_CLIENT_ID, CLI_CLIENT_NAME

revision = "0005"
down_revision = "0004"
branch_labels = None
depends_on = None

_clients = sa.table(
    "oauth_clients",
    sa.column("id", sa.String),
    sa.column("owner_id", sa.String),
    sa.column("name", sa.String),
    sa.column("redirect_uris", sa.JSON),
    sa.column("client_type", sa.String),
    sa.column("secret_hash", sa.String),
    sa.column("client_credentials_scopes", sa.JSON),
    sa.column("created_at", UTCDateTime),
    sa.column("updated_at", UTCDateTime),
)


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("oauth_clients") as batch:
        batch.alter_column("owner_id", existing_type=sa.String(length=36), nullable=True)
    now = datetime.now(UTC).replace(microsecond=0)
    op.bulk_insert(
        _clients,
        [
            {
                "id": CLI_CLIENT_ID,
                "owner_id": None,
                "name": CLI_CLIENT_NAME,
                "redirect_uris": [],
                "client_type": "public",
                "secret_hash": None,
                "client_credentials_scopes": None,
                "created_at": now,
                "updated_at": now,
            }
        ],
    )


def downgrade() -> None:
    """Revert this migration."""
    op.execute(sa.delete(_clients).where(_clients.c.owner_id.is_(None)))
    with op.batch_alter_table("oauth_clients") as batch:
        batch.alter_column("owner_id", existing_type=sa.String(length=36), nullable=False)
