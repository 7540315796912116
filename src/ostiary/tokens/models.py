"""The token model every kind of token reuses.

An :class:`Authorization` is a grant of scopes to act for an account: the account's API key, a
named personal token, or an OAuth grant to a client. It owns its secrets, each stored only as an
HMAC of its plaintext: :class:`AccessToken` rows, and for OAuth grants an
:class:`AuthorizationGrant` (the one-time code) and :class:`RefreshToken` rows, one per generation
of the rotating refresh token. The authorization is the refresh token family: revoking it kills
every token at once (and those of its descendants); the row stays, marked ``revoked_at``.
"""

from __future__ import annotations

import enum
from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ostiary.accounts.models import Account
from ostiary.clock import utcnow
from ostiary.db import Base, new_id
from ostiary.oauth_clients.models import OAuthClient


class AuthorizationKind(enum.StrEnum):
    """What created an authorization."""

    API_KEY = "api_key"
    PERSONAL = "personal"
    OAUTH = "oauth"
    CLIENT_CREDENTIALS = "client_credentials"


class Authorization(Base):
    """Scopes granted to act for an account, until expiry or revocation."""

    __tablename__ = "authorizations"
    # A client's authorizations of one kind, by account: the client-credentials lookup on every
    # token request (client and kind), consent and revoking an application's access (all
    # three), deleting a client (its prefix). Indexed by client alone, a popular application's
    # token requests read every user's grant to it (migration 0013, docs/architecture.md).
    __table_args__ = (
        Index("ix_authorizations_client_id_kind_account_id", "client_id", "kind", "account_id"),
        # The lifecycle job's expiry warnings and idle revocation (migration 0020).
        Index("ix_authorizations_expires_at", "expires_at"),
        Index("ix_authorizations_last_used_at_created_at", "last_used_at", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    kind: Mapped[str] = mapped_column(String(32))
    scopes: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(500), default="")
    client_id: Mapped[str | None] = mapped_column(
        ForeignKey("oauth_clients.id", ondelete="CASCADE")
    )
    session_id: Mapped[str | None] = mapped_column(
        ForeignKey("login_sessions.id", ondelete="CASCADE"), index=True
    )
    # The authorization whose token created this one: the child never outlives it, is revoked
    # with its parent (tokens.services.revoke_with_descendants) and deleted with it (the purge,
    # deleting the client or the account).
    parent_id: Mapped[str | None] = mapped_column(
        ForeignKey("authorizations.id", ondelete="CASCADE"), index=True
    )
    # The generation of the live refresh token (RFC 9700 section 4.14: rotation and reuse).
    refresh_generation: Mapped[int] = mapped_column(default=0, server_default="0")
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime | None]
    # Revoking sets this and keeps the row; the purge deletes it after its retention (indexed
    # for that purge).
    revoked_at: Mapped[datetime | None] = mapped_column(index=True)
    last_used_at: Mapped[datetime | None]
    last_used_ip: Mapped[str | None] = mapped_column(String(45))
    # Suspended by the owner's alert policy (ostiary.alerts): the authenticator refuses it until
    # the owner reinstates or revokes it. ``suspended_by`` is the alert's id (no foreign key: the
    # alerts table belongs to a higher layer, and an alert is kept or deleted on its own).
    suspended_at: Mapped[datetime | None]
    suspended_by: Mapped[str | None] = mapped_column(String(36))

    account: Mapped[Account] = relationship(lazy="joined")
    client: Mapped[OAuthClient | None] = relationship(lazy="joined")
    access_tokens: Mapped[list[AccessToken]] = relationship(
        back_populates="authorization", cascade="all, delete-orphan", passive_deletes=True
    )

    def is_active(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now``."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)


class HashedToken:
    """The stored form of a bearer secret: its keyed hash, and the ends shown when redacted."""

    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    display_head: Mapped[str] = mapped_column(String(16))
    display_tail: Mapped[str] = mapped_column(String(8))


class AccessToken(HashedToken, Base):
    """A bearer secret of an authorization, stored as HMAC-SHA256(server secret, plaintext)."""

    __tablename__ = "access_tokens"
    # An authorization's tokens newest first: the listing's newest live token of each
    # authorization reads one entry, not the thousands a client-credentials authorization
    # holds; deleting an authorization (its prefix). Migration 0013.
    __table_args__ = (
        Index("ix_access_tokens_authorization_id_created_at", "authorization_id", "created_at"),
        # The purge's long-expired tokens (migration 0014).
        Index("ix_access_tokens_expires_at", "expires_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    authorization_id: Mapped[str] = mapped_column(
        ForeignKey("authorizations.id", ondelete="CASCADE")
    )
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime | None]
    revoked_at: Mapped[datetime | None]
    # Replaced by a regeneration with a grace period (tokens.rotation): the token still works
    # until its expires_at, the grace's end. Its own last use is written only while it retires,
    # so the owner sees which addresses have not moved to the new token (migration 0021).
    retiring_at: Mapped[datetime | None]
    last_used_at: Mapped[datetime | None]
    last_used_ip: Mapped[str | None] = mapped_column(String(45))

    def is_active(self, now: datetime) -> bool:
        """Neither revoked nor expired at ``now`` (a retiring token: its grace not over)."""
        return self.revoked_at is None and (self.expires_at is None or self.expires_at > now)

    authorization: Mapped[Authorization] = relationship(back_populates="access_tokens")


class AuthorizationGrant(Base):
    """A one-time authorization code (RFC 6749 section 4.1.2), bound to its authorization."""

    __tablename__ = "authorization_grants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    authorization_id: Mapped[str] = mapped_column(
        ForeignKey("authorizations.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    redirect_uri: Mapped[str | None] = mapped_column(String(2000))
    code_challenge: Mapped[str | None] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    used_at: Mapped[datetime | None]

    authorization: Mapped[Authorization] = relationship(lazy="joined")


class RefreshToken(HashedToken, Base):
    """One generation of an authorization's rotating refresh token."""

    __tablename__ = "refresh_tokens"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    authorization_id: Mapped[str] = mapped_column(
        ForeignKey("authorizations.id", ondelete="CASCADE"), index=True
    )
    generation: Mapped[int]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    rotated_at: Mapped[datetime | None]

    authorization: Mapped[Authorization] = relationship(lazy="joined")


class DeviceAuthorization(Base):
    """A device or CLI waiting for its user to approve it in a browser (RFC 8628).

    ``kind`` is ``device`` (the RFC 8628 grant, for a registered client) or ``heroku_cli`` (the
    heroku CLI's browser login). Both codes are stored as keyed hashes; tokens are minted only
    when the device polls after approval, so no plaintext token is ever stored.
    """

    __tablename__ = "device_authorizations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    kind: Mapped[str] = mapped_column(String(16))
    device_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    user_code_hash: Mapped[str] = mapped_column(String(64), unique=True)
    client_id: Mapped[str | None] = mapped_column(
        ForeignKey("oauth_clients.id", ondelete="CASCADE"), index=True
    )
    scopes: Mapped[list[str]] = mapped_column(JSON)
    description: Mapped[str] = mapped_column(String(500), default="")
    interval: Mapped[int] = mapped_column(default=5)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    # The address the request came from, shown on the approval page (with its age).
    requester_ip: Mapped[str | None] = mapped_column(String(45))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    last_polled_at: Mapped[datetime | None]

    client: Mapped[OAuthClient | None] = relationship(lazy="joined")
