"""``ostiary check``'s finding about believed Host names."""

from __future__ import annotations

from pathlib import Path

from ostiary.config import load_settings
from ostiary.selfcheck import Level, check_allowed_hosts


def test_loopback_serving_needs_no_host_names(tmp_path: Path) -> None:
    finding = check_allowed_hosts(load_settings(data_dir=tmp_path, host="127.0.0.1"))
    assert finding.level is Level.OK


def test_a_public_address_without_names_says_how_to_configure_them(tmp_path: Path) -> None:
    finding = check_allowed_hosts(load_settings(data_dir=tmp_path, host="0.0.0.0"))  # noqa: S104
    assert finding.level is Level.WARNING
    assert finding.fix is not None
    assert "OSTIARY_ALLOWED_HOSTS" in finding.fix
    assert "OSTIARY_ISSUER" in finding.fix


def test_configured_names_are_listed(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path,
        host="0.0.0.0",  # noqa: S104
        allowed_hosts="id.example.com, .example.net",
        issuer="https://login.example.org",
    )
    finding = check_allowed_hosts(settings)
    assert finding.level is Level.OK
    assert "id.example.com" in finding.message
    assert "login.example.org" in finding.message


def test_a_star_is_a_warning(tmp_path: Path) -> None:
    finding = check_allowed_hosts(load_settings(data_dir=tmp_path, allowed_hosts="*"))
    assert finding.level is Level.WARNING
