"""The lifecycle's settings: warning thresholds as durations, refused when not one."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ostiary.config import load_settings
from ostiary.lifecycle.rules import DEFAULT_EXPIRY_WARNINGS, DEFAULT_IDLE_WARNING


def test_the_defaults_are_fourteen_seven_and_one_day() -> None:
    settings = load_settings()
    assert tuple(settings.expiry_warnings) == DEFAULT_EXPIRY_WARNINGS
    assert settings.idle_revocation_warning == DEFAULT_IDLE_WARNING


def test_thresholds_read_as_durations_from_the_environment(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OSTIARY_EXPIRY_WARNINGS", " 3s, 2s ,1h")
    monkeypatch.setenv("OSTIARY_IDLE_REVOCATION_WARNING", "off")
    settings = load_settings()
    assert settings.expiry_warnings == [3, 2, 3600]
    assert settings.idle_revocation_warning is None


@pytest.mark.parametrize("value", ["soon", "7d,-1", "0", "1d,0s"])
def test_a_threshold_that_is_no_duration_is_refused(
    monkeypatch: pytest.MonkeyPatch, value: str
) -> None:
    monkeypatch.setenv("OSTIARY_EXPIRY_WARNINGS", value)
    with pytest.raises(ValidationError):
        load_settings()
