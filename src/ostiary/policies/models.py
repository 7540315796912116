"""The policy's table: each account's own token policy (``account_token_policies``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.clock import utcnow
from ostiary.db import Base


class AccountTokenPolicy(Base):
    """An account's settings that make the server's token policy stricter; NULL where the
    account set nothing. ``tightened_at`` is when it last became stricter: tokens made before
    then expire at the maximum lifetime counted from it (``policies.rules.effective_expiry``)."""

    __tablename__ = "account_token_policies"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    max_lifetime: Mapped[int | None]
    allow_non_expiring: Mapped[bool | None]
    non_expiring_scopes: Mapped[list[str] | None] = mapped_column(JSON)
    api_key_max_age: Mapped[int | None]
    idle_revoke_after: Mapped[int | None]
    tightened_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
