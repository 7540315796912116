"""What the lifecycle package hands others: a credential of an account that expires soon, as
the dashboard lists it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class ExpiringCredential:
    """One credential and when it expires; ``kind`` is an ``AuthorizationKind`` value."""

    authorization_id: str
    kind: str
    description: str
    expires_at: datetime
