"""Alerts, alert policies, and the suspension of authorizations

Revision ID: 0017
Revises: 0014
Create Date: 2026-12-01 19:00:00

Issue 14's alerts: one row per finding (unique ``finding``, so each is raised once however many
workers see it), each account's policy (the rules that suspend the credential), and on
authorizations the suspension the authenticator reads in its one lookup.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ostiary.db import UTCDateTime

revision = "0017"
down_revision = "0016"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_table(
        "alerts",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("authorization_id", sa.String(length=36), nullable=True),
        sa.Column("rule", sa.String(length=32), nullable=False),
        sa.Column("finding", sa.String(length=300), nullable=False),
        sa.Column("raised_at", UTCDateTime(), nullable=False),
        sa.Column("seen_at", UTCDateTime(), nullable=True),
        sa.Column("details", sa.JSON(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_alerts_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_alerts_authorization_id_authorizations"),
            ondelete="SET NULL",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_alerts")),
        sa.UniqueConstraint("finding", name=op.f("uq_alerts_finding")),
    )
    with op.batch_alter_table("alerts") as batch:
        batch.create_index("ix_alerts_account_id_raised_at", ["account_id", "raised_at"])
        batch.create_index("ix_alerts_account_id_seen_at", ["account_id", "seen_at"])
        batch.create_index(batch.f("ix_alerts_authorization_id"), ["authorization_id"])
    op.create_table(
        "alert_policies",
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("suspend_on", sa.JSON(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_alert_policies_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("account_id", name=op.f("pk_alert_policies")),
    )
    with op.batch_alter_table("authorizations") as batch:
        batch.add_column(sa.Column("suspended_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("suspended_by", sa.String(length=36), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("authorizations") as batch:
        batch.drop_column("suspended_by")
        batch.drop_column("suspended_at")
    op.drop_table("alert_policies")
    with op.batch_alter_table("alerts") as batch:
        batch.drop_index(batch.f("ix_alerts_authorization_id"))
        batch.drop_index("ix_alerts_account_id_seen_at")
        batch.drop_index("ix_alerts_account_id_raised_at")
    op.drop_table("alerts")
