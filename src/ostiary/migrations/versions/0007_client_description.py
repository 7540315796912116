"""oauth_clients.description: what the application does, for its owner

Revision ID: 0007
Revises: 0006
Create Date: 2026-11-28 16:30:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0007"
down_revision = "0006"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("oauth_clients") as batch:
        batch.add_column(
            sa.Column("description", sa.String(length=500), nullable=False, server_default="")
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("oauth_clients") as batch:
        batch.drop_column("description")
