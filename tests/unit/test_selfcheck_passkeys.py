"""``ostiary check`` reports the relying party passkeys belong to, and a public URL where no
browser would offer them."""

from __future__ import annotations

from pathlib import Path

import pytest

from ostiary.config import load_settings
from ostiary.selfcheck import Level, audit, check_passkeys


@pytest.mark.parametrize(
    ("issuer", "level", "said"),
    [
        ("https://id.example.com", Level.OK, "RP id id.example.com, origin https://id.example.com"),
        ("http://localhost:5000", Level.OK, "RP id localhost"),
        ("http://id.example.com", Level.ERROR, "plain HTTP"),
        ("https://203.0.113.5", Level.WARNING, "IP address"),
    ],
)
def test_the_relying_party_of_the_issuer(
    tmp_path: Path, issuer: str, level: Level, said: str
) -> None:
    finding = check_passkeys(load_settings(data_dir=tmp_path, issuer=issuer))
    assert finding.level is level
    assert said in finding.message


def test_without_an_issuer_a_public_server_is_warned(tmp_path: Path) -> None:
    assert check_passkeys(load_settings(data_dir=tmp_path)).level is Level.OK  # loopback
    public = check_passkeys(load_settings(data_dir=tmp_path, host="0.0.0.0"))  # noqa: S104
    assert public.level is Level.WARNING
    assert public.fix is not None
    assert "OSTIARY_ISSUER" in public.fix


def test_the_finding_is_part_of_the_check(tmp_path: Path) -> None:
    topics = [finding.topic for finding in audit(load_settings(data_dir=tmp_path))]
    assert "passkeys" in topics
