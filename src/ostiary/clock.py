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
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=UTC)
    return moment.astimezone(UTC).strftime("%Y-%m-%dT%H:%M:%SZ")
