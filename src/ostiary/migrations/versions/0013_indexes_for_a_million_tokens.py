"""Indexes for a million stored tokens: a client's authorizations by kind and account, an
authorization's tokens by time

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-01 15:20:00

With a million stored tokens (bench/million_tokens.py), two queries read rows in proportion to
what is stored. The client-credentials grant looks up its client's live authorization of that
kind on every token request: by ``client_id`` alone that read every user's grant to a popular
application (300,000 rows for 1,000,000 tokens). The listing of an account's authorizations
ranks every token of each one to find the newest: a client-credentials authorization holds all
the tokens it ever issued. ``(client_id, kind, account_id)`` replaces the index on
``client_id`` (consent and revoking an application's access match all three, deleting a
client the prefix), ``(authorization_id, created_at)`` the one on ``authorization_id``.
"""

from __future__ import annotations

from alembic import op

revision = "0013"
down_revision = "0012"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    # Plain CREATE/DROP INDEX: SQLite's batch mode would copy the table to change an index.
    op.create_index(
        "ix_authorizations_client_id_kind_account_id",
        "authorizations",
        ["client_id", "kind", "account_id"],
    )
    op.drop_index("ix_authorizations_client_id", table_name="authorizations")
    op.create_index(
        "ix_access_tokens_authorization_id_created_at",
        "access_tokens",
        ["authorization_id", "created_at"],
    )
    op.drop_index("ix_access_tokens_authorization_id", table_name="access_tokens")


def downgrade() -> None:
    """Revert this migration."""
    op.create_index("ix_access_tokens_authorization_id", "access_tokens", ["authorization_id"])
    op.drop_index("ix_access_tokens_authorization_id_created_at", table_name="access_tokens")
    op.create_index("ix_authorizations_client_id", "authorizations", ["client_id"])
    op.drop_index("ix_authorizations_client_id_kind_account_id", table_name="authorizations")
