"""The events' chain record is authenticated: a MAC over its anchor and head

Revision ID: 0019
Revises: 0018
Create Date: 2026-12-01 20:20:00

``event_chain`` gains ``anchor_created_at`` (the pruned anchor event's time, which ``audit
verify`` compares with the retention) and ``mac``, an HMAC with the chain key over the head, the
anchor and its time: someone who can write the database but not read the server secret can no
longer move the head or the anchor. The row's ``mac`` stays NULL until the first sealing run
(a migration has no server secret); a chain already sealed before this migration has no MAC
and is refused until ``ostiary audit adopt`` (docs/activity-log.md). Columns only, so it runs
the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ostiary.db import UTCDateTime

revision = "0019"
down_revision = "0018"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("event_chain", schema=None) as batch:
        batch.add_column(sa.Column("anchor_created_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("mac", sa.String(length=64), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("event_chain", schema=None) as batch:
        batch.drop_column("mac")
        batch.drop_column("anchor_created_at")
