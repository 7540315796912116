"""Indexes on the client secrets' keyed hashes, for the leak response

Revision ID: 0027
Revises: 0026
Create Date: 2026-12-02 06:15:00

A reported client secret (``ostc_``) names no client: the leak response (``ostiary.leaks``)
finds it by its keyed hash, current (``secret_hash``) or the one a rotation replaced
(``previous_secret_hash``). Without these indexes each reported secret would read the whole
``oauth_clients`` table inside the report's write transaction, up to 500 times a payload and
from unauthenticated reports; with them it is an indexed lookup like every other reported
token's. Indexes only, the same on SQLite and PostgreSQL.
"""

from __future__ import annotations

from alembic import op

revision = "0027"
down_revision = "0026"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    op.create_index("ix_oauth_clients_secret_hash", "oauth_clients", ["secret_hash"])
    op.create_index(
        "ix_oauth_clients_previous_secret_hash", "oauth_clients", ["previous_secret_hash"]
    )


def downgrade() -> None:
    """Revert this migration."""
    op.drop_index("ix_oauth_clients_previous_secret_hash", table_name="oauth_clients")
    op.drop_index("ix_oauth_clients_secret_hash", table_name="oauth_clients")
