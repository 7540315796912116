"""Operations' settings (config.py): ``OSTIARY_METRICS_TOKEN`` and ``OSTIARY_ACCESS_LOG``."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from ostiary.config import Settings


def test_defaults_log_to_stderr_and_take_no_token() -> None:
    settings = Settings()
    assert settings.access_log == "-"
    assert settings.metrics_token is None


def test_the_token_comes_from_the_environment_and_stays_secret(
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    monkeypatch.setenv("OSTIARY_METRICS_TOKEN", "long-enough-scraper-token")
    settings = Settings()
    assert settings.metrics_token is not None
    assert settings.metrics_token.get_secret_value() == "long-enough-scraper-token"
    assert "long-enough-scraper-token" not in repr(settings)


def test_an_empty_token_means_none(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSTIARY_METRICS_TOKEN", "")
    assert Settings().metrics_token is None


def test_a_short_token_is_refused_without_being_shown(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("OSTIARY_METRICS_TOKEN", "guessable")
    with pytest.raises(ValidationError) as refused:
        Settings()
    assert "at least 16 characters" in str(refused.value)
    assert "guessable" not in str(refused.value)
