"""``ostiary check``'s findings about believed Host names and about the data directory (a
directory or database others can read is a warning that says how to fix it)."""

from __future__ import annotations

import os
from pathlib import Path

from ostiary.config import load_settings
from ostiary.files import private_directory, private_file
from ostiary.selfcheck import (
    Level,
    check_allowed_hosts,
    check_data_dir,
    check_rate_limits,
    check_redis,
)


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


def test_owner_only_is_ok(tmp_path: Path) -> None:
    settings = load_settings(data_dir=private_directory(tmp_path / "data"))
    private_file(settings.data_dir / "ostiary.db")
    assert check_data_dir(settings).level is Level.OK


def test_a_missing_directory_is_ok(tmp_path: Path) -> None:
    finding = check_data_dir(load_settings(data_dir=tmp_path / "later"))
    assert finding.level is Level.OK
    assert "created owner-only" in finding.message


def test_a_readable_directory_is_a_warning_with_its_fix(tmp_path: Path) -> None:
    settings = load_settings(data_dir=private_directory(tmp_path / "data"))
    os.chmod(settings.data_dir, 0o755)  # noqa: S103 - the loosened mode under test
    finding = check_data_dir(settings)
    assert finding.level is Level.WARNING
    assert str(settings.data_dir) in finding.message
    assert finding.fix == f"chmod 700 {settings.data_dir}"


def test_readable_database_files_are_a_warning_with_their_fix(tmp_path: Path) -> None:
    settings = load_settings(data_dir=private_directory(tmp_path / "data"))
    database = settings.data_dir / "ostiary.db"
    for path in (database, Path(f"{database}-wal"), Path(f"{database}-writer")):
        private_file(path)
    os.chmod(database, 0o644)
    os.chmod(f"{database}-wal", 0o640)
    finding = check_data_dir(settings)
    assert finding.level is Level.WARNING
    assert finding.fix == f"chmod 600 {database} {database}-wal"


def test_a_database_elsewhere_is_checked_where_it_is(tmp_path: Path) -> None:
    elsewhere = tmp_path / "elsewhere.db"
    private_file(elsewhere)
    os.chmod(elsewhere, 0o604)
    settings = load_settings(
        data_dir=private_directory(tmp_path / "data"), database_url=f"sqlite:///{elsewhere}"
    )
    assert check_data_dir(settings).fix == f"chmod 600 {elsewhere}"


def test_several_workers_without_redis_are_warned_of_per_worker_budgets(tmp_path: Path) -> None:
    finding = check_rate_limits(load_settings(data_dir=tmp_path, workers=4))
    assert finding.level is Level.WARNING
    assert "4 x 4500" in finding.message
    assert finding.fix is not None
    assert "OSTIARY_REDIS_URL" in finding.fix
    shared = load_settings(data_dir=tmp_path, workers=4, redis_url="redis://127.0.0.1:6379/0")
    assert check_rate_limits(shared).level is Level.OK


def test_nodes_on_postgresql_without_redis_are_warned(tmp_path: Path) -> None:
    settings = load_settings(
        data_dir=tmp_path, database_url="postgresql+psycopg://postgres@db.internal/ostiary"
    )
    assert check_rate_limits(settings).level is Level.WARNING
    assert check_rate_limits(load_settings(data_dir=tmp_path)).level is Level.OK


def test_redis_across_the_network_without_tls_is_a_warning(tmp_path: Path) -> None:
    plain = check_redis(load_settings(data_dir=tmp_path, redis_url="redis://:pw@cache.internal/0"))
    assert plain.level is Level.WARNING
    assert plain.fix is not None
    assert "rediss://" in plain.fix
    assert "pw" not in plain.message
    tls = check_redis(load_settings(data_dir=tmp_path, redis_url="rediss://:pw@cache.internal/0"))
    assert tls.level is Level.OK
    assert "pw" not in tls.message
    local = check_redis(load_settings(data_dir=tmp_path, redis_url="redis://127.0.0.1:6380/0"))
    assert local.level is Level.OK
    assert "127.0.0.1:6380" in local.message
