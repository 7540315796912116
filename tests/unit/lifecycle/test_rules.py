"""The lifecycle job's pure decisions: which expiry warning is due, and the idle revocation's
warning and revocation, at their edges."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from ostiary.lifecycle.rules import (
    DEFAULT_EXPIRY_WARNINGS,
    expiry_notice,
    idle_notice,
    idle_since,
    threshold_label,
)

NOW = datetime(2026, 12, 1, 12, 0, 0, tzinfo=UTC)
DAY = timedelta(days=1)


def test_no_warning_further_than_the_first_threshold() -> None:
    further = NOW + 14 * DAY + timedelta(seconds=1)
    assert expiry_notice(further, NOW, DEFAULT_EXPIRY_WARNINGS) is None


def test_the_fourteen_day_warning_at_its_edge() -> None:
    notice = expiry_notice(NOW + 14 * DAY, NOW, DEFAULT_EXPIRY_WARNINGS)
    assert notice is not None
    assert notice.rule == "expiring"
    assert notice.occasion == "14d:2026-12-15T12:00:00Z"
    assert notice.facts == {"days": 14, "expires_at": "2026-12-15T12:00:00Z"}


def test_only_the_nearest_threshold_is_due() -> None:
    # Made three days before its expiry: warned at 7d only, never at 14d as well.
    notice = expiry_notice(NOW + 3 * DAY, NOW, DEFAULT_EXPIRY_WARNINGS)
    assert notice is not None
    assert notice.occasion.startswith("7d:")
    assert notice.facts["days"] == 3
    last = expiry_notice(NOW + timedelta(hours=23), NOW, DEFAULT_EXPIRY_WARNINGS)
    assert last is not None
    assert last.occasion.startswith("1d:")
    assert last.facts["days"] == 1  # rounded up: never "expires in 0 days"


def test_expired_once_past_or_at_the_expiry() -> None:
    for expires_at in (NOW, NOW - timedelta(seconds=1)):
        notice = expiry_notice(expires_at, NOW, DEFAULT_EXPIRY_WARNINGS)
        assert notice is not None
        assert notice.rule == "expired"
        assert notice.occasion == f"expired:{notice.facts['expires_at']}"


def test_the_same_expiry_gives_the_same_occasion_and_a_moved_one_another() -> None:
    first = expiry_notice(NOW + 5 * DAY, NOW, DEFAULT_EXPIRY_WARNINGS)
    later = expiry_notice(NOW + 5 * DAY, NOW + DAY, DEFAULT_EXPIRY_WARNINGS)
    moved = expiry_notice(NOW + 6 * DAY, NOW, DEFAULT_EXPIRY_WARNINGS)
    assert first is not None
    assert later is not None
    assert moved is not None
    assert first.occasion == later.occasion
    assert moved.occasion != first.occasion


def test_short_thresholds_in_seconds() -> None:
    assert threshold_label(3) == "3s"
    assert threshold_label(86400) == "1d"
    notice = expiry_notice(NOW + timedelta(seconds=2), NOW, (6, 3))
    assert notice is not None
    assert notice.occasion.startswith("3s:")


def test_idle_since_is_the_last_use_else_the_creation() -> None:
    assert idle_since(None, NOW) == NOW
    assert idle_since(NOW + DAY, NOW) == NOW + DAY


def test_idle_warning_and_revocation_at_their_edges() -> None:
    after, warn = 365 * 86400, 14 * 86400
    assert idle_notice(NOW - (351 * DAY - timedelta(seconds=1)), NOW, after, warn) is None
    warned = idle_notice(NOW - 351 * DAY, NOW, after, warn)
    assert warned is not None
    assert warned.rule == "idle-revocation"
    assert warned.facts == {"days": 351, "revoke_at": "2026-12-15T12:00:00Z"}
    assert warned.occasion == "warned:2026-12-15T12:00:00Z"
    assert idle_notice(NOW - (365 * DAY - timedelta(seconds=1)), NOW, after, warn) is not None
    revoked = idle_notice(NOW - 365 * DAY, NOW, after, warn)
    assert revoked is not None
    assert revoked.rule == "idle-revoked"
    assert revoked.facts == {"days": 365}


def test_used_again_it_is_warned_again_for_the_new_date() -> None:
    after, warn = 100, 10
    first = idle_notice(NOW - timedelta(seconds=95), NOW, after, warn)
    assert first is not None
    # Used at NOW + 105 s, then idle again: warned anew, for the new revocation time.
    second = idle_notice(NOW + timedelta(seconds=105), NOW + timedelta(seconds=200), after, warn)
    assert second is not None
    assert second.occasion != first.occasion
