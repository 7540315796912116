"""The token model every kind of token reuses.

An :class:`Authorization` is a grant of scopes to act for an account: the account's API key, a
named personal token, or (later) an OAuth grant to a client. It owns its bearer secrets, the
:class:`AccessToken` rows, each stored only as an HMAC of its plaintext.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ostiary.accounts.models import Account
from ostiary.clock import utcnow
from ostiary.db import Base, new_id


class AuthorizationKind(enum.StrEnum):
    """What created an authorization."""

    API_KEY = "api_key"
    PERSONAL = "personal"
    OAUTH = "oauth"


class Authorization(Base):
    """Scopes granted to act for an account, until expiry or revocation."""

    __tablename__ = "authorizations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(16))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(500), default="")
    client_id: Mapped[str | None] = mapped_column(String(36), index=True)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    last_used_ip: Mapped[str | None] = mapped_column(String(45))

    account: Mapped[Account] = relationship(lazy="joined")
    access_tokens: Mapped[list[AccessToken]] = relationship(
        back_populates="authorization", cascade="all, delete-orphan", passive_deletes=True
    )

    def is_active(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class AccessToken(Base):
    """A bearer secret of an authorization, stored as HMAC-SHA256(server secret, plaintext)."""

    __tablename__ = "access_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    authorization_id: Mapped[str] = mapped_column(
        ForeignKey("authorizations.id", ondelete="CASCADE"), index=True
    )
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display_head: Mapped[str] = mapped_column(String(16))
    display_tail: Mapped[str] = mapped_column(String(8))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]

    authorization: Mapped[Authorization] = relationship(back_populates="access_tokens")
