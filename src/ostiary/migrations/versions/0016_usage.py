"""Usage per credential: hourly buckets, sources, refusals per minute

Revision ID: 0016
Revises: 0014
Create Date: 2026-12-01 19:00:00

Issue 14: requests per credential and hour (route group, status class), the addresses and user
agents each credential was used from (first and last seen), and the 401/403 answers per minute
the probing rule counts. Flushed in batches by each worker (``ostiary.usage``).
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ostiary.db import UTCDateTime

revision = "0016"
down_revision = "0015"
branch_labels = None
depends_on = None


def _foreign_keys(table: str, *, account: bool = True) -> list[sa.ForeignKeyConstraint]:
    keys = [
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f(f"fk_{table}_authorization_id_authorizations"),
            ondelete="CASCADE",
        )
    ]
    if account:
        keys.append(
            sa.ForeignKeyConstraint(
                ["account_id"],
                ["accounts.id"],
                name=op.f(f"fk_{table}_account_id_accounts"),
                ondelete="CASCADE",
            )
        )
    return keys


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "usage_hours",
        sa.Column("authorization_id", sa.String(36), nullable=False),
        sa.Column("hour", UTCDateTime(), nullable=False),
        sa.Column("route_group", sa.String(32), nullable=False),
        sa.Column("status_class", sa.String(8), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint(
            "authorization_id", "hour", "route_group", "status_class", name="pk_usage_hours"
        ),
        *_foreign_keys("usage_hours"),
    )
    op.create_index("ix_usage_hours_hour", "usage_hours", ["hour"])
    op.create_index("ix_usage_hours_account_id_hour", "usage_hours", ["account_id", "hour"])
    op.create_table(
        "usage_sources",
        sa.Column("authorization_id", sa.String(36), nullable=False),
        sa.Column("kind", sa.String(8), nullable=False),
        sa.Column("value", sa.String(400), nullable=False),
        sa.Column("account_id", sa.String(36), nullable=False),
        sa.Column("first_seen", UTCDateTime(), nullable=False),
        sa.Column("last_seen", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("authorization_id", "kind", "value", name="pk_usage_sources"),
        *_foreign_keys("usage_sources"),
    )
    op.create_index("ix_usage_sources_last_seen", "usage_sources", ["last_seen"])
    op.create_index("ix_usage_sources_account_id", "usage_sources", ["account_id"])
    op.create_table(
        "usage_refusals",
        sa.Column("authorization_id", sa.String(36), nullable=False),
        sa.Column("minute", UTCDateTime(), nullable=False),
        sa.Column("count", sa.Integer(), nullable=False),
        sa.PrimaryKeyConstraint("authorization_id", "minute", name="pk_usage_refusals"),
        *_foreign_keys("usage_refusals", account=False),
    )
    op.create_index("ix_usage_refusals_minute", "usage_refusals", ["minute"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("usage_refusals")
    op.drop_table("usage_sources")
    op.drop_table("usage_hours")
