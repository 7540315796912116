"""``ostiary check`` on the server-wide token policy: weaker than the defaults (idle revocation
off or slower than 365 days) is a warning that says how to fix it; the default's non-expiring
global tokens are noted with the settings that end them."""

from __future__ import annotations

from pathlib import Path

from ostiary.config import load_settings
from ostiary.selfcheck import Level, check_token_policy


def test_idle_revocation_off_is_a_warning(tmp_path: Path) -> None:
    finding = check_token_policy(load_settings(data_dir=tmp_path, token_idle_revoke_after="off"))
    assert finding.level is Level.WARNING
    assert finding.fix is not None
    assert "OSTIARY_TOKEN_IDLE_REVOKE_AFTER" in finding.fix


def test_idle_revocation_slower_than_the_default_is_a_warning(tmp_path: Path) -> None:
    slower = check_token_policy(load_settings(data_dir=tmp_path, token_idle_revoke_after="366d"))
    assert slower.level is Level.WARNING
    assert "366 days" in slower.message
    exact = check_token_policy(load_settings(data_dir=tmp_path, token_idle_revoke_after="365d"))
    assert exact.level is Level.OK


def test_the_default_notes_non_expiring_global_tokens(tmp_path: Path) -> None:
    finding = check_token_policy(load_settings(data_dir=tmp_path))
    assert finding.level is Level.OK
    assert "global" in finding.message
    assert finding.fix is not None
    assert "OSTIARY_TOKEN_MAX_LIFETIME" in finding.fix


def test_a_stricter_policy_is_reported_as_it_is(tmp_path: Path) -> None:
    limited = check_token_policy(load_settings(data_dir=tmp_path, token_max_lifetime="90d"))
    assert limited.level is Level.OK
    assert limited.fix is None
    assert "at most 90 days" in limited.message
    scoped = check_token_policy(
        load_settings(data_dir=tmp_path, token_non_expiring_scopes="read,identity")
    )
    assert "read, identity" in scoped.message
    assert scoped.fix is None
