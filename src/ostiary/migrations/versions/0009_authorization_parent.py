"""authorizations: parent_id, the authorization whose token created this one

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-01 09:40:00

An authorization created with a token is that token's child: deleting (revoking) the parent
deletes the child with it, through the foreign key's ON DELETE CASCADE.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0009"
down_revision = "0008"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("authorizations") as batch:
        batch.add_column(sa.Column("parent_id", sa.String(length=36), nullable=True))
        batch.create_index("ix_authorizations_parent_id", ["parent_id"])
        batch.create_foreign_key(
            "fk_authorizations_parent_id_authorizations",
            "authorizations",
            ["parent_id"],
            ["id"],
            ondelete="CASCADE",
        )


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("authorizations") as batch:
        batch.drop_constraint("fk_authorizations_parent_id_authorizations", type_="foreignkey")
        batch.drop_index("ix_authorizations_parent_id")
        batch.drop_column("parent_id")
