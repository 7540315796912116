"""What the passkey code hands back besides ORM rows: the relying party a ceremony is for, a
passkey as the dashboard lists it, and the outcome of a verified sign-in."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class RelyingParty:
    """This server as WebAuthn sees it (WebAuthn L2 section 5.4.2): its RP id (a host name), the
    one origin answers must come from, and the name authenticators show."""

    id: str
    origin: str
    name: str = "Ostiary"


@dataclass(frozen=True, slots=True)
class PasskeyListing:
    """One passkey on the dashboard: never its key."""

    id: str
    name: str
    transports: tuple[str, ...]
    created_at: datetime
    last_used_at: datetime | None


@dataclass(frozen=True, slots=True)
class VerifiedPasskey:
    """A passkey whose answer verified: which one, and whose."""

    passkey_id: str
    account_id: str
    name: str
