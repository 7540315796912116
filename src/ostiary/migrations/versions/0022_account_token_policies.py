"""Each account's own token policy, stricter than the server's

Revision ID: 0022
Revises: 0021
Create Date: 2026-12-01 23:40:00

``account_token_policies``: one row per account that made the server's token policy stricter
(docs/token-lifecycle.md, "Policies"); NULL columns take the server's setting. A new table
only, so it runs the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ostiary.db import UTCDateTime

revision = "0022"
down_revision = "0021"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "account_token_policies",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("max_lifetime", sa.Integer(), nullable=True),
        sa.Column("allow_non_expiring", sa.Boolean(), nullable=True),
        sa.Column("non_expiring_scopes", sa.JSON(), nullable=True),
        sa.Column("api_key_max_age", sa.Integer(), nullable=True),
        sa.Column("idle_revoke_after", sa.Integer(), nullable=True),
        sa.Column("tightened_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("account_token_policies")
