"""The Account model."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.clock import utcnow
from ostiary.db import Base, new_id


class Account(Base):
    """A person with an email and a password, who owns apps and tokens.

    Emails are stored lower-cased, which makes them unique regardless of case.
    """

    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    email: Mapped[str] = mapped_column(String(254), unique=True)
    name: Mapped[str | None] = mapped_column(String(200))
    password_hash: Mapped[str | None] = mapped_column(String(200))
    allow_tracking: Mapped[bool] = mapped_column(default=True)
    beta: Mapped[bool] = mapped_column(default=False)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    last_login: Mapped[datetime | None]
    # When the owner followed a verification link sent to this email (NULL: not verified);
    # accounts an administrator makes, and those that existed before verification, count as
    # verified (docs/account-recovery.md).
    email_verified_at: Mapped[datetime | None]
    # When an administrator disabled the account (NULL: enabled). Its credentials are refused
    # while it is set, and work again when it is cleared.
    disabled_at: Mapped[datetime | None]


class EmailLink(Base):
    """A one-time link mailed to an account: a password reset, or the proof that the owner
    reads an address (verification, and an email change, which takes effect when followed).

    Only the token's keyed hash is stored (``security/hashing.py``); ``email`` is the address
    the link was sent to, which a verification link proves.
    """

    __tablename__ = "email_links"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    purpose: Mapped[str] = mapped_column(String(32))
    token_hash: Mapped[str] = mapped_column(String(64), unique=True)
    email: Mapped[str] = mapped_column(String(254))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime]
    # When it was followed, or voided by a later reset; a used link works no more.
    used_at: Mapped[datetime | None]


class LoginSession(Base):
    """A signed-in session: a password login from a CLI, or (later) a browser's login cookie.

    Ending a session revokes the authorizations created through it and keeps its row, marked
    ``ended_at``, for the purge's retention; an ended session signs nobody in.
    """

    __tablename__ = "login_sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    description: Mapped[str] = mapped_column(String(500), default="")
    ip: Mapped[str | None] = mapped_column(String(45))
    user_agent: Mapped[str | None] = mapped_column(String(400))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
    expires_at: Mapped[datetime | None]
    # When the user last proved their password in this session (login or re-authentication);
    # revealing and rotating secrets need it to be recent.
    authenticated_at: Mapped[datetime | None]
    # When the session was ended (signed out, destroyed, or ended by a password change).
    ended_at: Mapped[datetime | None]
