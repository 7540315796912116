"""The usage tables: requests per credential and hour, the addresses and user agents each
credential was used from, and its refused requests per minute (for the probing rule).

Rows belong to an authorization and go with it (the foreign keys cascade: the purge deleting a
revoked authorization deletes its usage); the retention job (:func:`ostiary.usage.services.prune`)
deletes what is older than :data:`ostiary.usage.rules.RETENTION`.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.db import Base


class UsageHour(Base):
    """How many requests one credential made in one hour, to one route group, answered with
    one status class (``2xx`` ... ``5xx``)."""

    __tablename__ = "usage_hours"
    # The retention job's old hours, and an account's busiest credentials.
    __table_args__ = (
        Index("ix_usage_hours_hour", "hour"),
        Index("ix_usage_hours_account_id_hour", "account_id", "hour"),
    )

    authorization_id: Mapped[str] = mapped_column(
        ForeignKey("authorizations.id", ondelete="CASCADE"), primary_key=True
    )
    hour: Mapped[datetime] = mapped_column(primary_key=True)
    route_group: Mapped[str] = mapped_column(String(32), primary_key=True)
    status_class: Mapped[str] = mapped_column(String(8), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    count: Mapped[int]


class UsageSource(Base):
    """An address or a user agent one credential was used from: first and last seen, and how
    many requests came from it."""

    __tablename__ = "usage_sources"
    __table_args__ = (
        Index("ix_usage_sources_last_seen", "last_seen"),
        Index("ix_usage_sources_account_id", "account_id"),
    )

    authorization_id: Mapped[str] = mapped_column(
        ForeignKey("authorizations.id", ondelete="CASCADE"), primary_key=True
    )
    kind: Mapped[str] = mapped_column(String(8), primary_key=True)  # "address" or "agent"
    value: Mapped[str] = mapped_column(String(400), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    first_seen: Mapped[datetime]
    last_seen: Mapped[datetime]
    count: Mapped[int]


class UsageRefusal(Base):
    """How many 401 and 403 answers one credential got in one minute: the probing rule's window
    is five minutes, finer than the hourly buckets, and spans flushes and workers."""

    __tablename__ = "usage_refusals"
    __table_args__ = (Index("ix_usage_refusals_minute", "minute"),)

    authorization_id: Mapped[str] = mapped_column(
        ForeignKey("authorizations.id", ondelete="CASCADE"), primary_key=True
    )
    minute: Mapped[datetime] = mapped_column(primary_key=True)
    count: Mapped[int]
