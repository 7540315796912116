"""The OAuthClient model (RFC 6749 section 2)."""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ostiary.accounts.models import Account
from ostiary.clock import utcnow
from ostiary.db import Base, new_id


class ClientType(enum.StrEnum):
    """RFC 6749 section 2.1: whether a client can keep a secret."""

    CONFIDENTIAL = "confidential"
    PUBLIC = "public"


class OAuthClient(Base):
    """An application registered by an account to ask users for authorizations."""

    __tablename__ = "oauth_clients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    # None for the first-party clients that ship with Ostiary (oauth_clients/first_party.py).
    owner_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    name: Mapped[str] = mapped_column(String(100))
    # Shown to the owner in the dashboard; the API's client resource has no such field.
    description: Mapped[str] = mapped_column(String(500), default="", server_default="")
    redirect_uris: Mapped[list[str]] = mapped_column(JSON)
    client_type: Mapped[str] = mapped_column(String(16), default=ClientType.CONFIDENTIAL)
    # HMAC-SHA256(server secret, client secret); None for public clients, and for a
    # confidential one whose secret a leak report retired (leaks.services) until it rotates.
    # Both hashes are indexed for the leak response, which finds a reported secret by its hash
    # (migration 0027).
    secret_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    # The secret a rotation with a grace period replaced (keyed hash only), accepted until
    # previous_secret_expires_at so the client can roll the new one across its servers; also a
    # secret retired by a leak report, its grace over, so a later report of it is known dead.
    previous_secret_hash: Mapped[str | None] = mapped_column(String(64), index=True)
    previous_secret_expires_at: Mapped[datetime | None]
    # Scopes the client-credentials grant may give; None when the grant is not allowed.
    client_credentials_scopes: Mapped[list[str] | None] = mapped_column(JSON)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)

    # Loaded only when read: no hot path needs the owner's row, and joining it into every
    # client (and so every authorization) query cost more than the query itself.
    owner: Mapped[Account | None] = relationship(lazy="select")

    @property
    def is_public(self) -> bool:
        """Whether the client has no secret (native apps, CLIs)."""
        return self.client_type == ClientType.PUBLIC
