"""Indexes the lifecycle job reads: authorizations by expiry, and by last use then creation

Revision ID: 0020
Revises: 0019
Create Date: 2026-12-01 23:45:00

The periodic lifecycle job (``ostiary.lifecycle``, issue 15) finds the credentials whose expiry
warning is due (``expires_at``) and those idle long enough to be warned or revoked
(``last_used_at``, and ``created_at`` for never-used ones: ``last_used_at IS NULL`` is a prefix of
the same index), in keyset batches. Indexes only, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic import op

revision = "0020"
down_revision = "0019"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_index("ix_authorizations_expires_at", "authorizations", ["expires_at"])
    op.create_index(
        "ix_authorizations_last_used_at_created_at",
        "authorizations",
        ["last_used_at", "created_at"],
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_authorizations_last_used_at_created_at", table_name="authorizations")
    op.drop_index("ix_authorizations_expires_at", table_name="authorizations")
