"""Device polling rules (RFC 8628 section 3.5): pending, slow_down (kept for later polls),
denied, expired, and an approval consumed by the poll that finds it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ostiary.oauth2.rfc8628 import (
    SLOW_DOWN_STEP,
    PollState,
    decide_poll,
    display_user_code,
    new_user_code,
    normalize_user_code,
)

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


@dataclass
class Device:
    status: str = "pending"
    expires_at: datetime = NOW + timedelta(minutes=10)
    last_polled_at: datetime | None = None
    interval: int = 5


def test_a_first_poll_is_pending_and_remembered() -> None:
    outcome = decide_poll(Device(), NOW)
    assert outcome.state == PollState.PENDING
    assert outcome.last_polled_at == NOW
    assert outcome.interval == 5


def test_polling_sooner_than_the_interval_slows_the_device_down_for_good() -> None:
    outcome = decide_poll(Device(last_polled_at=NOW - timedelta(seconds=2)), NOW)
    assert outcome.state == PollState.SLOW_DOWN
    assert outcome.interval == 5 + SLOW_DOWN_STEP
    later = decide_poll(
        Device(last_polled_at=NOW, interval=outcome.interval), NOW + timedelta(seconds=11)
    )
    assert later.state == PollState.PENDING
    assert later.interval == 5 + SLOW_DOWN_STEP  # the longer interval is kept


def test_the_heroku_cli_long_poll_may_poll_without_the_interval() -> None:
    outcome = decide_poll(Device(last_polled_at=NOW), NOW, enforce_interval=False)
    assert outcome.state == PollState.PENDING


def test_approval_is_consumed_once_and_then_the_code_is_expired() -> None:
    approved = decide_poll(Device(status="approved"), NOW)
    assert approved.state == PollState.APPROVED
    assert approved.status == "consumed"
    assert decide_poll(Device(status=approved.status), NOW).state == PollState.EXPIRED


def test_denied_and_expired() -> None:
    assert decide_poll(Device(status="denied"), NOW).state == PollState.DENIED
    assert decide_poll(Device(expires_at=NOW), NOW).state == PollState.EXPIRED
    assert decide_poll(Device(status="approved", expires_at=NOW), NOW).state == PollState.EXPIRED


def test_user_codes_are_typeable_and_forgiving() -> None:
    code = new_user_code()
    assert len(code) == 8
    assert set(code) <= set("BCDFGHJKLMNPQRSTVWXZ")  # no vowels, no look-alikes
    shown = display_user_code(code)
    assert shown == f"{code[:4]}-{code[4:]}"
    assert normalize_user_code(f" {shown.lower()} ") == code
