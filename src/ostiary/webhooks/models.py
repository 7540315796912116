"""The tables of webhooks: an account's :class:`Webhook` subscriptions and each
:class:`WebhookDelivery` of an event to one of them, with its attempts' outcome.

A webhook's secret (and its optional ``Authorization`` header) must be read back to sign each
delivery, so unlike tokens they are stored encrypted (``webhooks.secrets``), never hashed.
"""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String, Text
from sqlalchemy.orm import Mapped, mapped_column, relationship

from ostiary.clock import utcnow
from ostiary.db import Base, new_id


class Webhook(Base):
    """An account's subscription: where to POST which kinds of event, signed with its secret."""

    __tablename__ = "webhooks"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    url: Mapped[str] = mapped_column(String(2000))
    include: Mapped[list[str]] = mapped_column(JSON)
    level: Mapped[str] = mapped_column(String(16), default="notify")
    # AES-GCM ciphertexts (webhooks.secrets), bound to this row's id.
    secret_sealed: Mapped[str] = mapped_column(Text)
    authorization_sealed: Mapped[str | None] = mapped_column(Text)
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)


class WebhookDelivery(Base):
    """One event to deliver to one webhook, and where its delivery stands.

    ``status`` is Heroku's: ``pending`` (not tried yet), ``retrying`` (failed, tried again at
    ``next_attempt_at``), ``succeeded``, or ``failed`` (given up after the retry window). A
    sender claims a due delivery by setting ``claim`` and ``locked_until`` (``webhooks.leases``),
    so no two senders attempt it at once.
    """

    __tablename__ = "webhook_deliveries"
    __table_args__ = (
        # The senders' scan for due deliveries, and the account's list newest first.
        Index("ix_webhook_deliveries_status_next_attempt_at", "status", "next_attempt_at"),
        Index("ix_webhook_deliveries_account_id_created_at", "account_id", "created_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    webhook_id: Mapped[str] = mapped_column(
        ForeignKey("webhooks.id", ondelete="CASCADE"), index=True
    )
    account_id: Mapped[str] = mapped_column(String(36))
    event_id: Mapped[str] = mapped_column(String(36))
    include: Mapped[str] = mapped_column(String(16))
    # The envelope without its per-attempt metadata (webhooks.payloads adds it when sending).
    payload: Mapped[dict[str, object]] = mapped_column(JSON)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    num_attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    give_up_at: Mapped[datetime]
    claim: Mapped[str | None] = mapped_column(String(36))
    locked_until: Mapped[datetime | None]
    last_attempt_id: Mapped[str | None] = mapped_column(String(36))
    last_attempt_status: Mapped[str | None] = mapped_column(String(16))
    last_attempt_code: Mapped[int | None]
    last_attempt_error: Mapped[str | None] = mapped_column(String(80))
    last_attempt_at: Mapped[datetime | None]
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow)

    webhook: Mapped[Webhook] = relationship(lazy="joined")
