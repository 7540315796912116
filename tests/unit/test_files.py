"""The data directory and the SQLite database are their owner's only (0700 / 0600), even with a
permissive umask, as the secret key already was."""

from __future__ import annotations

import os
import stat
from collections.abc import Iterator
from pathlib import Path

import pytest
from sqlalchemy import text

from ostiary.config import load_settings
from ostiary.db import Database
from ostiary.files import private_directory, private_file
from ostiary.migrate import upgrade
from ostiary.security.server_secret import load_or_create_secret


def mode(path: Path) -> int:
    return stat.S_IMODE(path.stat().st_mode)


@pytest.fixture(autouse=True)
def permissive_umask() -> Iterator[None]:
    """What a careless shell might have: everything readable and writable by everyone."""
    previous = os.umask(0)
    yield
    os.umask(previous)


def test_a_new_data_directory_is_0700(tmp_path: Path) -> None:
    created = private_directory(tmp_path / "deep" / "data")
    assert mode(created) == 0o700


def test_an_existing_directory_keeps_its_mode(tmp_path: Path) -> None:
    existing = tmp_path / "shared"
    existing.mkdir(mode=0o750)
    os.chmod(existing, 0o750)  # noqa: S103 - the operator's mode under test
    private_directory(existing)
    assert mode(existing) == 0o750  # the operator's choice; `ostiary check` warns about it


def test_a_private_file_is_0600_and_an_existing_one_is_left_alone(tmp_path: Path) -> None:
    path = private_file(tmp_path / "new")
    assert mode(path) == 0o600
    path.write_text("kept")
    private_file(path)
    assert path.read_text() == "kept"


def test_the_database_and_its_wal_shm_writer_and_wake_files_are_0600(tmp_path: Path) -> None:
    settings = load_settings(data_dir=tmp_path / "data")
    private_directory(settings.data_dir)
    upgrade(settings.effective_database_url)
    database = Database(settings.effective_database_url)
    try:
        with database.unit_of_work(write=True) as session:  # a write makes the -wal and -shm
            session.execute(text("UPDATE accounts SET name = name"))
        load_or_create_secret(settings)
        files = sorted(path.name for path in settings.data_dir.iterdir())
        assert files == [
            "ostiary.db",
            "ostiary.db-shm",
            "ostiary.db-wal",
            "ostiary.db-writer",
            "ostiary.db-writer-wake",  # the named pipe that wakes loops waiting to write
            "secret_key",
        ]
        for name in files:
            assert mode(settings.data_dir / name) == 0o600, name
        assert mode(settings.data_dir) == 0o700
    finally:
        database.dispose()
