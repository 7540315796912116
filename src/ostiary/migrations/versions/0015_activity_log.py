"""The activity log: each event's credential, outcome, app and subject; its hash chain

Revision ID: 0015
Revises: 0014
Create Date: 2026-12-01 18:45:00

Events gain the credential they were made with (authorization id, redacted token, client id),
their outcome, the app and the account they concern (``subject_id``, when not the actor), and
their place in the hash chain (``seq``, ``chain_hash``), filled by the sealing job after commit.
``event_chain`` holds the chain's anchor (the last pruned event) and head (the last sealed).
Events already recorded are left unsealed: the first sealing run chains them, oldest first.
"""

from __future__ import annotations

from datetime import UTC, datetime

import sqlalchemy as sa
from alembic import op

revision = "0015"
down_revision = "0014"
branch_labels = None
depends_on = None

GENESIS = "0" * 64


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("events", schema=None) as batch:
        batch.add_column(sa.Column("subject_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("authorization_id", sa.String(length=36), nullable=True))
        batch.add_column(sa.Column("token", sa.String(length=40), nullable=True))
        batch.add_column(sa.Column("client_id", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("app_id", sa.String(length=36), nullable=True))
        batch.add_column(
            sa.Column("outcome", sa.String(length=16), nullable=False, server_default="success")
        )
        batch.add_column(sa.Column("seq", sa.BigInteger(), nullable=True))
        batch.add_column(sa.Column("chain_hash", sa.String(length=64), nullable=True))
    with op.batch_alter_table("events", schema=None) as batch:
        # The model has no server default: the writer always names the outcome.
        batch.alter_column("outcome", server_default=None)
    op.create_index(
        "ix_events_subject_id_created_at",
        "events",
        ["subject_id", "created_at"],
        sqlite_where=sa.text("subject_id IS NOT NULL"),
        postgresql_where=sa.text("subject_id IS NOT NULL"),
    )
    op.create_index(
        "ix_events_unsealed",
        "events",
        ["created_at"],
        sqlite_where=sa.text("seq IS NULL"),
        postgresql_where=sa.text("seq IS NULL"),
    )
    op.create_index(
        "ix_events_seq",
        "events",
        ["seq"],
        unique=True,
        sqlite_where=sa.text("seq IS NOT NULL"),
        postgresql_where=sa.text("seq IS NOT NULL"),
    )
    chain = op.create_table(
        "event_chain",
        sa.Column("id", sa.String(length=16), nullable=False),
        sa.Column("anchor_seq", sa.BigInteger(), nullable=False),
        sa.Column("anchor_hash", sa.String(length=64), nullable=False),
        sa.Column("head_seq", sa.BigInteger(), nullable=False),
        sa.Column("head_hash", sa.String(length=64), nullable=False),
        sa.Column("updated_at", sa.DateTime(), nullable=False),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_event_chain")),
    )
    op.bulk_insert(
        chain,
        [
            {
                "id": "events",
                "anchor_seq": 0,
                "anchor_hash": GENESIS,
                "head_seq": 0,
                "head_hash": GENESIS,
                "updated_at": datetime.now(UTC).replace(tzinfo=None, microsecond=0),
            }
        ],
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_table("event_chain")
    op.drop_index("ix_events_seq", table_name="events")
    op.drop_index("ix_events_unsealed", table_name="events")
    op.drop_index("ix_events_subject_id_created_at", table_name="events")
    with op.batch_alter_table("events", schema=None) as batch:
        for name in (
            "chain_hash",
            "seq",
            "outcome",
            "app_id",
            "client_id",
            "token",
            "authorization_id",
            "subject_id",
        ):
            batch.drop_column(name)
