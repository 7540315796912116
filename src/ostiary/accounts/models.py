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
