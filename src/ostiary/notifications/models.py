"""The notifications' tables: each account's settings (``notification_settings``), the devices
and networks it signed in from (``sign_in_places``), and the events already notified
(``notifications_sent``, so a batch sealed twice never mails twice)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.clock import utcnow
from ostiary.db import Base, new_id


class AccountNotificationSettings(Base):
    """An account's informational notifications (on by default: a missing row means both on),
    and when its first sign-in was seen: that one is never notified, every later one is
    compared with the places known."""

    __tablename__ = "notification_settings"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    new_sign_in: Mapped[bool] = mapped_column(default=True)
    new_token: Mapped[bool] = mapped_column(default=True)
    first_sign_in_at: Mapped[datetime | None]
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class SignInPlaceRow(Base):
    """A device and network an account signed in from (``rules.place_of``); at most
    ``rules.MAX_PLACES`` per account (the least recently used goes), and pruned when unused
    for ``rules.PLACE_RETENTION``."""

    __tablename__ = "sign_in_places"
    __table_args__ = (
        UniqueConstraint("account_id", "device", "network"),
        Index("ix_sign_in_places_last_seen_at", "last_seen_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    device: Mapped[str] = mapped_column(String(80))
    network: Mapped[str] = mapped_column(String(64))
    first_seen_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_seen_at: Mapped[datetime] = mapped_column(default=utcnow)


class SentNotification(Base):
    """An event already notified (``id`` is the event's): a second sealing of the same event
    finds it and queues nothing. Kept ``rules.SENT_RETENTION``."""

    __tablename__ = "notifications_sent"
    __table_args__ = (Index("ix_notifications_sent_created_at", "created_at"),)

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(String(36))
    kind: Mapped[str] = mapped_column(String(40))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
