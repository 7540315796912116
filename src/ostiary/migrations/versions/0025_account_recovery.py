"""Account recovery and verification: verified and disabled accounts, mailed links, sealed mail

Revision ID: 0025
Revises: 0024
Create Date: 2026-12-02 02:00:00

``accounts.email_verified_at`` (every existing account counts as verified: its address was
never asked to be proved, and marking thousands unverified at once would help nobody) and
``accounts.disabled_at``; ``email_links``, the reset and verification links, by their token's
keyed hash; ``mail_outbox.sealed``, set when a mail's bodies are encrypted (they carry a link).
Runs the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ostiary.db import UTCDateTime

revision = "0025"
down_revision = "0024"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("accounts", schema=None) as batch:
        batch.add_column(sa.Column("email_verified_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("disabled_at", UTCDateTime(), nullable=True))
    op.execute("UPDATE accounts SET email_verified_at = created_at")
    with op.batch_alter_table("mail_outbox", schema=None) as batch:
        batch.add_column(
            sa.Column("sealed", sa.Boolean(), nullable=False, server_default=sa.false())
        )
    op.create_table(
        "email_links",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("purpose", sa.String(length=32), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("email", sa.String(length=254), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_email_links_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_email_links")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_email_links_token_hash")),
    )
    op.create_index(op.f("ix_email_links_account_id"), "email_links", ["account_id"], unique=False)


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index(op.f("ix_email_links_account_id"), table_name="email_links")
    op.drop_table("email_links")
    with op.batch_alter_table("mail_outbox", schema=None) as batch:
        batch.drop_column("sealed")
    with op.batch_alter_table("accounts", schema=None) as batch:
        batch.drop_column("disabled_at")
        batch.drop_column("email_verified_at")
