"""The alerts' tables: each alert raised (``alerts``) and each account's policy
(``alert_policies``)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Index, String
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.clock import utcnow
from ostiary.db import Base, new_id


class Alert(Base):
    """One finding about one credential, told to its owner once.

    ``finding`` names the finding (rule, credential and what makes it distinct: the hour, the
    network, the family, the dormancy, the day) and is unique, so the same finding raised again,
    by any worker, writes nothing (``alerts.rules.finding_of``).
    """

    __tablename__ = "alerts"
    # The account's alerts newest first (the list), and its unseen ones (the dashboard's notice,
    # counted on every page).
    __table_args__ = (
        Index("ix_alerts_account_id_raised_at", "account_id", "raised_at"),
        Index("ix_alerts_account_id_seen_at", "account_id", "seen_at"),
    )

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id", ondelete="CASCADE"))
    # Kept when the purge deletes the credential long after its revocation: the alert stays
    # readable with the description copied into its details.
    authorization_id: Mapped[str | None] = mapped_column(
        ForeignKey("authorizations.id", ondelete="SET NULL"), index=True
    )
    rule: Mapped[str] = mapped_column(String(32))
    finding: Mapped[str] = mapped_column(String(300), unique=True)
    raised_at: Mapped[datetime] = mapped_column(default=utcnow)
    seen_at: Mapped[datetime | None]
    details: Mapped[dict[str, object]] = mapped_column(JSON, default=dict)


class AlertPolicy(Base):
    """What an account wants done besides telling it: the rules that suspend the credential."""

    __tablename__ = "alert_policies"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    suspend_on: Mapped[list[str]] = mapped_column(JSON, default=list)
    updated_at: Mapped[datetime] = mapped_column(default=utcnow, onupdate=utcnow)
