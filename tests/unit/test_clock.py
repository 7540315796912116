"""Heroku's timestamp format."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta, timezone

from ostiary.clock import isoformat, utcnow


def test_utc_naive_and_offset_times_render_as_utc_z() -> None:
    moment = datetime(2026, 1, 2, 3, 4, 5, 678, tzinfo=UTC)
    assert isoformat(moment) == "2026-01-02T03:04:05Z"
    assert isoformat(moment.replace(tzinfo=None)) == "2026-01-02T03:04:05Z"
    plus_two = moment.astimezone(timezone(timedelta(hours=2)))
    assert isoformat(plus_two) == "2026-01-02T03:04:05Z"
    assert isoformat(None) is None


def test_utcnow_is_aware_and_whole_seconds() -> None:
    now = utcnow()
    assert now.tzinfo is UTC
    assert now.microsecond == 0
