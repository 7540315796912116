"""oauth clients, sessions, grants, refresh tokens

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-28 13:53:26.673817
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

from ostiary.db import UTCDateTime

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""

    op.create_table(
        "login_sessions",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("account_id", sa.String(length=36), nullable=False),
        sa.Column("description", sa.String(length=500), nullable=False),
        sa.Column("ip", sa.String(length=45), nullable=True),
        sa.Column("user_agent", sa.String(length=400), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["account_id"],
            ["accounts.id"],
            name=op.f("fk_login_sessions_account_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_login_sessions")),
    )
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_login_sessions_account_id"), ["account_id"], unique=False
        )

    op.create_table(
        "oauth_clients",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("owner_id", sa.String(length=36), nullable=False),
        sa.Column("name", sa.String(length=100), nullable=False),
        sa.Column("redirect_uris", sa.JSON(), nullable=False),
        sa.Column("client_type", sa.String(length=16), nullable=False),
        sa.Column("secret_hash", sa.String(length=64), nullable=True),
        sa.Column("client_credentials_scopes", sa.JSON(), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("updated_at", UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(
            ["owner_id"],
            ["accounts.id"],
            name=op.f("fk_oauth_clients_owner_id_accounts"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_oauth_clients")),
    )
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.create_index(batch_op.f("ix_oauth_clients_owner_id"), ["owner_id"], unique=False)

    op.create_table(
        "authorization_grants",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("authorization_id", sa.String(length=36), nullable=False),
        sa.Column("code_hash", sa.String(length=64), nullable=False),
        sa.Column("redirect_uri", sa.String(length=2000), nullable=True),
        sa.Column("code_challenge", sa.String(length=128), nullable=True),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("expires_at", UTCDateTime(), nullable=False),
        sa.Column("used_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_authorization_grants_authorization_id_authorizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_authorization_grants")),
        sa.UniqueConstraint("code_hash", name=op.f("uq_authorization_grants_code_hash")),
    )
    with op.batch_alter_table("authorization_grants", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_authorization_grants_authorization_id"),
            ["authorization_id"],
            unique=False,
        )

    op.create_table(
        "refresh_tokens",
        sa.Column("id", sa.String(length=36), nullable=False),
        sa.Column("authorization_id", sa.String(length=36), nullable=False),
        sa.Column("token_hash", sa.String(length=64), nullable=False),
        sa.Column("display_head", sa.String(length=16), nullable=False),
        sa.Column("display_tail", sa.String(length=8), nullable=False),
        sa.Column("generation", sa.Integer(), nullable=False),
        sa.Column("created_at", UTCDateTime(), nullable=False),
        sa.Column("rotated_at", UTCDateTime(), nullable=True),
        sa.ForeignKeyConstraint(
            ["authorization_id"],
            ["authorizations.id"],
            name=op.f("fk_refresh_tokens_authorization_id_authorizations"),
            ondelete="CASCADE",
        ),
        sa.PrimaryKeyConstraint("id", name=op.f("pk_refresh_tokens")),
        sa.UniqueConstraint("token_hash", name=op.f("uq_refresh_tokens_token_hash")),
    )
    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.create_index(
            batch_op.f("ix_refresh_tokens_authorization_id"), ["authorization_id"], unique=False
        )

    with op.batch_alter_table("authorizations", schema=None) as batch_op:
        batch_op.add_column(sa.Column("session_id", sa.String(length=36), nullable=True))
        batch_op.add_column(
            sa.Column("refresh_generation", sa.Integer(), nullable=False, server_default="0")
        )
        batch_op.create_index(
            batch_op.f("ix_authorizations_session_id"), ["session_id"], unique=False
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_authorizations_session_id_login_sessions"),
            "login_sessions",
            ["session_id"],
            ["id"],
            ondelete="CASCADE",
        )
        batch_op.create_foreign_key(
            batch_op.f("fk_authorizations_client_id_oauth_clients"),
            "oauth_clients",
            ["client_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    """Revert this migration."""

    with op.batch_alter_table("authorizations", schema=None) as batch_op:
        batch_op.drop_constraint(
            batch_op.f("fk_authorizations_client_id_oauth_clients"), type_="foreignkey"
        )
        batch_op.drop_constraint(
            batch_op.f("fk_authorizations_session_id_login_sessions"), type_="foreignkey"
        )
        batch_op.drop_index(batch_op.f("ix_authorizations_session_id"))
        batch_op.drop_column("refresh_generation")
        batch_op.drop_column("session_id")

    with op.batch_alter_table("refresh_tokens", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_refresh_tokens_authorization_id"))

    op.drop_table("refresh_tokens")
    with op.batch_alter_table("authorization_grants", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_authorization_grants_authorization_id"))

    op.drop_table("authorization_grants")
    with op.batch_alter_table("oauth_clients", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_oauth_clients_owner_id"))

    op.drop_table("oauth_clients")
    with op.batch_alter_table("login_sessions", schema=None) as batch_op:
        batch_op.drop_index(batch_op.f("ix_login_sessions_account_id"))

    op.drop_table("login_sessions")
