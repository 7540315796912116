"""The second factors' tables: ``totp_factors`` (one per account, its secret sealed) and
``recovery_codes`` (keyed hashes, single use)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, String
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.clock import utcnow
from ostiary.db import Base, new_id


class TotpFactor(Base):
    """An account's TOTP authenticator (RFC 6238). ``sealed_secret`` is the base32 seed sealed
    with AES-GCM (``security.sealing``), bound to the account; the factor is pending until
    ``confirmed_at``, set when a current code proved the app holds the seed.
    ``last_step`` is the time-step of the last accepted code: a code of that step or an earlier
    one is refused, so each code works once (RFC 6238 section 5.2)."""

    __tablename__ = "totp_factors"

    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), primary_key=True
    )
    sealed_secret: Mapped[str] = mapped_column(String(200))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    confirmed_at: Mapped[datetime | None]
    last_step: Mapped[int | None]


class RecoveryCode(Base):
    """One single-use recovery code, stored as the server's keyed hash (``code_hash``) only;
    ``used_at`` once spent. Regenerating deletes the account's whole set."""

    __tablename__ = "recovery_codes"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    code_hash: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    used_at: Mapped[datetime | None]
