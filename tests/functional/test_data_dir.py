"""The data directory and the database are private (issue 10, item 12): a real ``ostiary db
upgrade`` and ``ostiary serve`` under a permissive umask leave nothing for other users to read,
and ``ostiary check`` warns, with the fix, when someone loosened them."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from tests.support.server import ostiary_env, run_cli, start_server


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture
def permissive_umask() -> Iterator[None]:
    previous = os.umask(0)  # inherited by the server and CLI processes started below
    yield
    os.umask(previous)


@pytest.mark.usefixtures("permissive_umask")
def test_a_served_data_directory_is_owner_only(tmp_path: Path) -> None:
    data_dir = tmp_path / "fresh" / "data"
    migrated = run_cli("db", "upgrade", env=ostiary_env(data_dir))
    assert migrated.returncode == 0, migrated.stderr
    assert mode(data_dir) == 0o700
    assert mode(data_dir / "ostiary.db") == 0o600
    server = start_server(data_dir)
    try:
        assert httpx.post(f"{server.url}/auth", json={}).status_code == 200  # a write
    finally:
        server.stop()
    for name in ("ostiary.db", "ostiary.db-writer", "secret_key"):
        assert mode(data_dir / name) == 0o600, name
    for name in ("ostiary.db-wal", "ostiary.db-shm"):  # present unless checkpointed away
        if (data_dir / name).exists():
            assert mode(data_dir / name) == 0o600, name
    assert mode(data_dir) == 0o700


def test_check_warns_about_a_readable_data_directory(tmp_path: Path) -> None:
    data_dir = tmp_path / "data"
    env = ostiary_env(data_dir)
    assert run_cli("db", "upgrade", env=env).returncode == 0
    assert "ok  data directory" in run_cli("check", env=env).stdout
    os.chmod(data_dir, 0o755)  # noqa: S103 - the loosened mode under test
    os.chmod(data_dir / "ostiary.db", 0o644)
    checked = run_cli("check", env=env)
    assert checked.returncode == 0  # a warning, not an error
    assert f"WARNING  data directory: Other users can read {data_dir}" in checked.stdout
    assert f"fix: chmod 700 {data_dir} && chmod 600 {data_dir / 'ostiary.db'}" in checked.stdout
