"""login_sessions.ended_at and an index on authorizations.revoked_at: revoking keeps rows

Revision ID: 0012
Revises: 0011
Create Date: 2026-12-09 10:00:00

Revoking marks rows instead of deleting them, so that what was revoked can still be named; an
ended session is kept, with the time it ended, until the purge's retention has passed. The
purge finds revoked authorizations past that retention by the index.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ostiary.db import UTCDateTime

revision = "0012"
down_revision = "0011"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("login_sessions") as batch:
        batch.add_column(sa.Column("ended_at", UTCDateTime(), nullable=True))
    with op.batch_alter_table("authorizations") as batch:
        batch.create_index(batch.f("ix_authorizations_revoked_at"), ["revoked_at"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("authorizations") as batch:
        batch.drop_index(batch.f("ix_authorizations_revoked_at"))
    with op.batch_alter_table("login_sessions") as batch:
        batch.drop_column("ended_at")
