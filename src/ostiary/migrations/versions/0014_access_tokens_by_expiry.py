"""Access tokens by expiry, for the purge of long-expired ones

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-01 16:20:00

A client-credentials authorization keeps every token it issues, one per request of a machine
caller (86,400 a day at one a second). The purge deletes those that expired
``REVOKED_RETENTION`` ago and are not their authorization's newest; this index lets it find them
without reading the whole table each run.
"""

from __future__ import annotations

from alembic import op

revision = "0014"
down_revision = "0013"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_index("ix_access_tokens_expires_at", "access_tokens", ["expires_at"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_access_tokens_expires_at", table_name="access_tokens")
