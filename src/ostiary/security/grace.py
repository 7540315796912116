"""The grace period of a rotation: how long a replaced token or client secret keeps working
after its successor is issued (docs/token-lifecycle.md, "Rotation without downtime")."""

from __future__ import annotations

import re
from datetime import datetime, timedelta

from ostiary.errors import InvalidParams

MAX_GRACE_PERIOD = 7 * 24 * 3600
"""The longest grace: a week, enough to roll a secret across a fleet, short enough that a
forgotten consumer is found soon."""


def parse_grace_period(value: object, field: str = "grace_period") -> int:
    """Seconds of grace: an integer (or a string of digits) from 0 to :data:`MAX_GRACE_PERIOD`;
    None or 0 is no grace at all (the old credential ends at once, as without the option)."""
    if value is None:
        return 0
    if isinstance(value, str) and re.fullmatch(r"[0-9]{1,7}", value.strip()):
        value = int(value.strip())
    if isinstance(value, bool) or not isinstance(value, int):
        raise InvalidParams(field, f"{field} must be a whole number of seconds.")
    if not 0 <= value <= MAX_GRACE_PERIOD:
        raise InvalidParams(
            field, f"{field} must be 0 to {MAX_GRACE_PERIOD} seconds (7 days), not {value}."
        )
    return value


def grace_end(now: datetime, grace_period: int, expires_at: datetime | None) -> datetime:
    """When a credential replaced at ``now`` with this grace stops working: the grace's end, or
    its own expiry when that comes first (a grace never lengthens a credential's life)."""
    end = now + timedelta(seconds=grace_period)
    return min(end, expires_at) if expires_at is not None else end
