"""Pure decisions of the lifecycle job: which expiry warning is due, and when an idle
credential is warned and revoked. No storage here; times are aware UTC datetimes."""

from __future__ import annotations

import math
from collections.abc import Iterable
from dataclasses import dataclass
from datetime import datetime, timedelta

from ostiary.clock import isoformat

DAY = 86400
DEFAULT_EXPIRY_WARNINGS: tuple[int, ...] = (14 * DAY, 7 * DAY, 1 * DAY)
DEFAULT_IDLE_WARNING = 14 * DAY


def threshold_label(seconds: int) -> str:
    """A threshold as occasions name it: ``7d`` for whole days, else ``90s``."""
    return f"{seconds // DAY}d" if seconds % DAY == 0 else f"{seconds}s"


@dataclass(frozen=True, slots=True)
class Notice:
    """An alert the job raises about one credential: the rule, its occasion (which makes it
    distinct, so it is raised once) and its facts for the summary."""

    rule: str
    occasion: str
    facts: dict[str, object]


def whole_days(span: timedelta) -> int:
    """Whole days in a span, never below 0."""
    return max(0, span.days)


def days_left(span: timedelta) -> int:
    """Days left, rounded up: 23 hours before the expiry is "1 day", never "0 days"."""
    return max(1, math.ceil(span.total_seconds() / DAY))


def expiry_notice(expires_at: datetime, now: datetime, thresholds: Iterable[int]) -> Notice | None:
    """The warning due for a credential expiring at ``expires_at``: "expired" once past it,
    else "expiring" for the nearest threshold (seconds before the expiry) it is within; None
    when it is further away than every threshold.

    Only the nearest threshold is due, so a token made three days before its expiry is warned
    once at "7d", not at "14d" and "7d" together; each threshold's occasion names the expiry
    date, so a token whose expiry moves is warned again for the new date.
    """
    when = isoformat(expires_at) or ""
    if expires_at <= now:
        return Notice("expired", f"expired:{when}", {"expires_at": when})
    left = expires_at - now
    within = [seconds for seconds in thresholds if left <= timedelta(seconds=seconds)]
    if not within:
        return None
    nearest = min(within)
    return Notice(
        "expiring",
        f"{threshold_label(nearest)}:{when}",
        {"days": days_left(left), "expires_at": when},
    )


def idle_since(last_used_at: datetime | None, created_at: datetime) -> datetime:
    """When a credential's idleness began: its last use, else its creation."""
    return last_used_at or created_at


def idle_notice(
    since: datetime, now: datetime, revoke_after: int, warn_before: int
) -> Notice | None:
    """What is due for a credential idle since ``since``: "idle-revoked" once ``revoke_after``
    seconds have passed (the caller revokes it), "idle-revocation" within ``warn_before`` of
    that, else None. The occasion names the revocation time, so a credential used again and
    then left idle again is warned again."""
    revoke_at = since + timedelta(seconds=revoke_after)
    when = isoformat(revoke_at) or ""
    if revoke_at <= now:
        return Notice("idle-revoked", f"revoked:{when}", {"days": whole_days(now - since)})
    if revoke_at - now <= timedelta(seconds=warn_before):
        return Notice(
            "idle-revocation",
            f"warned:{when}",
            {"days": whole_days(now - since), "revoke_at": when},
        )
    return None
