"""login_sessions.authenticated_at: when the password was last proved in the session

Revision ID: 0006
Revises: 0005
Create Date: 2026-11-28 16:20:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ostiary.db import UTCDateTime

revision = "0006"
down_revision = "0005"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("login_sessions") as batch:
        batch.add_column(sa.Column("authenticated_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("login_sessions") as batch:
        batch.drop_column("authenticated_at")
