"""What the second-factor services hand back."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class TotpEnrolment:
    """A pending TOTP factor, shown while enrolling: the seed (to type) and its
    ``otpauth://`` URI (to scan)."""

    secret: str
    uri: str


@dataclass(frozen=True, slots=True)
class AcceptedCode:
    """A second-factor code accepted: its kind (``totp`` or ``recovery-code``) and, for a
    recovery code, how many are left."""

    kind: str
    remaining: int | None = None
