"""Account notifications: settings, sign-in places, events notified

Revision ID: 0026
Revises: 0025
Create Date: 2026-12-02 02:10:00

``notification_settings`` (an account's informational notifications, and when its first
sign-in was seen), ``sign_in_places`` (the devices and networks each account signed in from)
and ``notifications_sent`` (the events already notified, so none is mailed twice); see
docs/notifications.md. New tables only, so it runs the same on SQLite and PostgreSQL. Accounts
that exist before it have no places: their first sign-in after it is remembered, not mailed.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ostiary.db import UTCDateTime

revision = "0026"
down_revision = "0025"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "notification_settings",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("new_sign_in", sa.Boolean(), nullable=False),
        sa.Column("new_token", sa.Boolean(), nullable=False),
        sa.Column("first_sign_in_at", UTCDateTime(), nullable=True),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("account_id"),
    )
    op.create_table(
        "sign_in_places",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("device", sa.String(length=80), nullable=False),
        sa.Column("network", sa.String(length=64), nullable=False),
        sa.Column("first_seen_at", UTCDateTime(), nullable=False),
        sa.Column("last_seen_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(["account_id"], ["accounts.id"], ondelete="CASCADE"),
        sa.PrimaryKeyConstraint("id"),
        sa.UniqueConstraint("account_id", "device", "network"),
    )
    op.create_index("ix_sign_in_places_last_seen_at", "sign_in_places", ["last_seen_at"])
    op.create_table(
        "notifications_sent",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("kind", sa.String(length=40), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id"),
    )
    op.create_index("ix_notifications_sent_created_at", "notifications_sent", ["created_at"])


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_notifications_sent_created_at", table_name="notifications_sent")
    op.drop_table("notifications_sent")
    op.drop_index("ix_sign_in_places_last_seen_at", table_name="sign_in_places")
    op.drop_table("sign_in_places")
    op.drop_table("notification_settings")
