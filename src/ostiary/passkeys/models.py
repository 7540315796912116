"""The tables of passkeys: an account's registered WebAuthn credentials, and the single-use
challenges of the ceremonies in progress (WebAuthn L2 section 13.4.3)."""

from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, ForeignKey, Integer, LargeBinary, String
from sqlalchemy.orm import Mapped, mapped_column

from ostiary.clock import utcnow
from ostiary.db import Base, new_id


class Passkey(Base):
    """One WebAuthn credential of an account: the public key the authenticator made, and how
    often it says it was used (a count that goes back means a cloned authenticator)."""

    __tablename__ = "passkeys"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    account_id: Mapped[str] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    # The credential id, base64url without padding (WebAuthn L2 section 5.1: at most 1023
    # bytes, so at most 1364 characters).
    credential_id: Mapped[str] = mapped_column(String(1400), unique=True)
    # The COSE public key (WebAuthn L2 section 6.5.1.1), as the authenticator encoded it.
    public_key: Mapped[bytes] = mapped_column(LargeBinary)
    sign_count: Mapped[int] = mapped_column(Integer, default=0)
    transports: Mapped[list[str]] = mapped_column(JSON, default=list)
    name: Mapped[str] = mapped_column(String(100))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    last_used_at: Mapped[datetime | None]


class PasskeyChallenge(Base):
    """A challenge handed to a browser for one ceremony: kept as a keyed hash, bound to the
    browser that asked (its CSRF cookie, hashed), consumed by the first answer, good for two
    minutes. Purged once expired (``ostiary.purge``)."""

    __tablename__ = "passkey_challenges"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    challenge_digest: Mapped[str] = mapped_column(String(128), unique=True)
    # "register", "sign-in", "second-factor" or "reauthenticate".
    purpose: Mapped[str] = mapped_column(String(20))
    # The account the ceremony is for; None for a passwordless sign-in (anyone's passkey).
    account_id: Mapped[str | None] = mapped_column(
        ForeignKey("accounts.id", ondelete="CASCADE"), index=True
    )
    browser_digest: Mapped[str] = mapped_column(String(128))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    expires_at: Mapped[datetime] = mapped_column(index=True)
