"""device_authorizations.requester_ip: the address that asked for a device or CLI login

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-02 10:00:00

The approval page shows it (with the request's age), so a user sent a link by someone else can
see that the login was not started from their own machine.
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0010"
down_revision = "0009"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Apply this migration."""
    with op.batch_alter_table("device_authorizations") as batch:
        batch.add_column(sa.Column("requester_ip", sa.String(length=45), nullable=True))


def downgrade() -> None:
    """Revert this migration."""
    with op.batch_alter_table("device_authorizations") as batch:
        batch.drop_column("requester_ip")
