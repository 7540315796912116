"""authorizations.kind holds "client_credentials" (18 characters)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-28 16:00:00

String(16) was too short for the client-credentials kind. SQLite does not enforce lengths, so
only PostgreSQL refused those authorizations.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0004"
down_revision = "0003"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("authorizations") as batch:
        batch.alter_column(
            "kind", type_=sa.String(length=32), existing_type=sa.String(length=16), nullable=False
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("authorizations") as batch:
        batch.alter_column(
            "kind", type_=sa.String(length=16), existing_type=sa.String(length=32), nullable=False
        )
