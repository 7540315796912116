"""``ostiary check`` reports whether the server requires a second factor."""

from __future__ import annotations

from pathlib import Path

from ostiary.config import load_settings
from ostiary.selfcheck import Level, audit, check_second_factors


def test_the_default_is_optional_and_says_how_to_require_it(tmp_path: Path) -> None:
    finding = check_second_factors(load_settings(data_dir=tmp_path))
    assert finding.level is Level.OK
    assert "Optional" in finding.message
    assert finding.fix is not None
    assert "OSTIARY_REQUIRE_2FA=true" in finding.fix


def test_required_is_reported(tmp_path: Path) -> None:
    finding = check_second_factors(load_settings(data_dir=tmp_path, require_2fa=True))
    assert "Required" in finding.message
    assert finding.fix is None


def test_the_finding_is_part_of_the_check(tmp_path: Path) -> None:
    topics = [finding.topic for finding in audit(load_settings(data_dir=tmp_path))]
    assert "second factors" in topics
