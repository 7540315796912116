"""events: one (actor_id, created_at) index instead of three single-column ones

Revision ID: 0008
Revises: 0007
Create Date: 2026-11-28 16:40:00

The activity of an account, newest first, is the one query events serve; the action and time
indexes alone served nothing, and each index costs a page in every token issuance's commit.
"""

from __future__ import annotations

from alembic import op

revision = "0008"
down_revision = "0007"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_action")
        batch.drop_index("ix_events_actor_id")
        batch.drop_index("ix_events_created_at")
        batch.create_index("ix_events_actor_id_created_at", ["actor_id", "created_at"])


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("events") as batch:
        batch.drop_index("ix_events_actor_id_created_at")
        batch.create_index("ix_events_created_at", ["created_at"])
        batch.create_index("ix_events_actor_id", ["actor_id"])
        batch.create_index("ix_events_action", ["action"])
