"""The grace period of a rotation: what ``grace_period`` accepts and when the grace ends."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from ostiary.errors import InvalidParams
from ostiary.security.grace import MAX_GRACE_PERIOD, grace_end, parse_grace_period

NOW = datetime(2026, 12, 1, 12, 0, tzinfo=UTC)


def test_absent_or_zero_is_no_grace() -> None:
    assert parse_grace_period(None) == 0
    assert parse_grace_period(0) == 0
    assert parse_grace_period("0") == 0


def test_seconds_up_to_seven_days_are_accepted() -> None:
    assert MAX_GRACE_PERIOD == 604800
    assert parse_grace_period(1) == 1
    assert parse_grace_period(3600) == 3600
    assert parse_grace_period(" 3600 ") == 3600  # a numeric string, as form-minded clients send
    assert parse_grace_period(MAX_GRACE_PERIOD) == MAX_GRACE_PERIOD


@pytest.mark.parametrize("value", [MAX_GRACE_PERIOD + 1, 10**12, "604801", -1, "-1"], ids=repr)
def test_over_the_maximum_or_negative_is_refused(value: object) -> None:
    with pytest.raises(InvalidParams) as refused:
        parse_grace_period(value)
    assert refused.value.field == "grace_period"


@pytest.mark.parametrize("value", [1.5, 60.0, "1h", "", True, False, [60], {"s": 1}], ids=repr)
def test_anything_but_whole_seconds_is_refused(value: object) -> None:
    with pytest.raises(InvalidParams) as refused:
        parse_grace_period(value)
    assert refused.value.field == "grace_period"
    assert "whole number of seconds" in str(refused.value)


def test_the_refusal_names_the_field_it_checked() -> None:
    with pytest.raises(InvalidParams) as refused:
        parse_grace_period(-5, field="grace-period")
    assert refused.value.field == "grace-period"


def test_a_grace_never_outlives_the_credentials_own_expiry() -> None:
    assert grace_end(NOW, 60, None) == NOW + timedelta(seconds=60)
    later = NOW + timedelta(days=1)
    assert grace_end(NOW, 60, later) == NOW + timedelta(seconds=60)
    sooner = NOW + timedelta(seconds=10)
    assert grace_end(NOW, 60, sooner) == sooner
