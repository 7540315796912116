"""Rotation without downtime: retiring access tokens and a client's previous secret

Revision ID: 0021
Revises: 0020
Create Date: 2026-12-01 23:40:00

``access_tokens`` gains ``retiring_at`` (set when the token was replaced by a regeneration with
a grace period: it works until its ``expires_at``, the end of the grace) and its own last use
(``last_used_at``, ``last_used_ip``, written only for retiring tokens, so the owner sees which
addresses still use the old token). ``oauth_clients`` gains the previous secret's keyed hash and
the end of its grace. Columns only, so it runs the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ostiary.db import UTCDateTime

revision = "0021"
down_revision = "0020"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("access_tokens", schema=None) as batch:
        batch.add_column(sa.Column("retiring_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_used_at", UTCDateTime(), nullable=True))
        batch.add_column(sa.Column("last_used_ip", sa.String(length=45), nullable=True))
    with op.batch_alter_table("oauth_clients", schema=None) as batch:
        batch.add_column(sa.Column("previous_secret_hash", sa.String(length=64), nullable=True))
        batch.add_column(sa.Column("previous_secret_expires_at", UTCDateTime(), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("oauth_clients", schema=None) as batch:
        batch.drop_column("previous_secret_expires_at")
        batch.drop_column("previous_secret_hash")
    with op.batch_alter_table("access_tokens", schema=None) as batch:
        batch.drop_column("last_used_ip")
        batch.drop_column("last_used_at")
        batch.drop_column("retiring_at")
