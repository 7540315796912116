"""Files only their owner may read: token stores, the netrc, private keys, the data directory
and its database."""

from __future__ import annotations

import os
from pathlib import Path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to ``path`` with mode 0600, replacing the file in one step (a reader never
    sees half a file, and the content is never readable by others, not even briefly)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    temporary = path.with_name(f".{path.name}.tmp")
    descriptor = os.open(temporary, os.O_WRONLY | os.O_CREAT | os.O_TRUNC, 0o600)
    with os.fdopen(descriptor, "wb") as file:
        file.write(data)
    os.replace(temporary, path)


def private_directory(path: Path) -> Path:
    """Create ``path`` (and missing parents) for its owner only (0700). An existing directory
    keeps its mode: ``ostiary check`` warns when others can read it."""
    if not path.is_dir():
        path.mkdir(mode=0o700, parents=True, exist_ok=True)
    return path


def private_file(path: Path) -> Path:
    """Create an empty ``path`` with mode 0600 unless it exists (SQLite then creates its -wal
    and -shm files with the database's own mode)."""
    try:
        descriptor = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        return path
    os.close(descriptor)
    return path
