"""Durations as settings and policies write them."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ostiary.config import load_settings
from ostiary.durations import describe_duration, parse_duration


@pytest.mark.parametrize(
    ("written", "seconds"),
    [
        ("30s", 30),
        ("15m", 900),
        ("12h", 43200),
        ("90d", 7776000),
        ("2w", 1209600),
        ("3600", 3600),
        (" 7D ", 604800),
        (45, 45),
    ],
)
def test_a_duration_is_seconds_or_a_number_with_a_unit(written: object, seconds: int) -> None:
    assert parse_duration(written) == seconds


@pytest.mark.parametrize("written", ["", "d", "1.5h", "-3", "10y", "1h30m", True, -1, None])
def test_anything_else_is_refused_with_the_forms_accepted(written: object) -> None:
    with pytest.raises(ValueError, match=r"30s, 15m, 12h, 90d, 2w|negative"):
        parse_duration(written)


def test_durations_are_described_in_their_largest_whole_unit() -> None:
    assert describe_duration(90 * 86400) == "90 days"
    assert describe_duration(14 * 86400) == "2 weeks"
    assert describe_duration(36 * 3600) == "36 hours"
    assert describe_duration(1) == "1 second"
    assert describe_duration(61) == "61 seconds"


def test_the_policy_settings_read_durations_and_off(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSTIARY_TOKEN_MAX_LIFETIME", "90d")
    monkeypatch.setenv("OSTIARY_API_KEY_MAX_AGE", "12h")
    monkeypatch.setenv("OSTIARY_TOKEN_IDLE_REVOKE_AFTER", "off")
    monkeypatch.setenv("OSTIARY_TOKEN_NON_EXPIRING_SCOPES", "read, identity")
    settings = load_settings()
    assert settings.token_max_lifetime == 90 * 86400
    assert settings.api_key_max_age == 12 * 3600
    assert settings.token_idle_revoke_after is None
    assert settings.token_non_expiring_scopes == ["read", "identity"]
    monkeypatch.delenv("OSTIARY_TOKEN_IDLE_REVOKE_AFTER")
    assert load_settings().token_idle_revoke_after == 365 * 86400


@pytest.mark.parametrize("written", ["0", "soon", "0d"])
def test_a_duration_setting_of_nothing_or_nonsense_is_refused(
    monkeypatch: pytest.MonkeyPatch, written: str
) -> None:
    monkeypatch.setenv("OSTIARY_TOKEN_MAX_LIFETIME", written)
    with pytest.raises(ValidationError) as refused:
        load_settings()
    assert "token_max_lifetime" in str(refused.value)
