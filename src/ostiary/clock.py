"""Time helpers: every timestamp Ostiary stores or shows is UTC, to the second."""

from __future__ import annotations

from datetime import UTC, datetime


def utcnow() -> datetime:
    """The current UTC time, without microseconds (Heroku's timestamps have none)."""
    return datetime.now(UTC).replace(microsecond=0)


def isoformat(moment: datetime | None) -> str | None:
    """Render a timestamp as Heroku does: ``2012-01-01T12:00:00Z``."""
    if moment is None:
        return None
    if moment.tzinfo is not None and moment.utcoffset():
        moment = moment.astimezone(UTC)
    # isoformat is several times faster than strftime; its first 19 characters are the same.
    return moment.isoformat(timespec="seconds")[:19] + "Z"


def seconds_until(moment: datetime | None) -> int | None:
    """Whole seconds from now until ``moment`` (0 once past), or None for "never"."""
    if moment is None:
        return None
    return max(0, int((moment - utcnow()).total_seconds()))
