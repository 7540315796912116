"""A private PostgreSQL cluster on a free port (initdb + pg_ctl), for tests that stop and start
the database under a running server; the machine's own PostgreSQL is never touched."""

from __future__ import annotations

import glob
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import free_port


def _binaries() -> Path | None:
    found = sorted(glob.glob("/usr/lib/postgresql/*/bin/initdb"))
    if found:
        return Path(found[-1]).parent
    initdb = shutil.which("initdb")
    return Path(initdb).parent if initdb else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI needs PostgreSQL's initdb and pg_ctl: {reason}")
    pytest.skip(reason)


@dataclass
class PrivatePostgres:
    """A cluster of our own: ``start``, ``stop`` (immediate, as a crash) and its URL."""

    directory: Path
    port: int
    binaries: Path

    @property
    def url(self) -> str:
        """The SQLAlchemy URL of its ``postgres`` database."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/postgres"

    def _run(self, *args: str) -> None:
        command = [str(self.binaries / args[0]), *args[1:]]
        if os.geteuid() == 0:  # PostgreSQL refuses to run as root
            command = ["runuser", "-u", "postgres", "--", *command]
        subprocess.run(command, check=True, capture_output=True, timeout=120)

    def initialize(self) -> None:
        """Create the cluster (trust authentication, loopback only)."""
        if os.geteuid() == 0:
            shutil.chown(self.directory, "postgres", "postgres")
        self._run("initdb", "-D", str(self.directory / "data"), "-A", "trust", "-U", "postgres")

    def start(self) -> None:
        """Start it and wait until it accepts connections."""
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1"
        log = str(self.directory / "pg.log")  # -l always: else pg_ctl keeps our stdout open
        self._run(
            "pg_ctl", "-D", str(self.directory / "data"), "-o", options, "-l", log, "-w", "start"
        )

    def stop(self) -> None:
        """Stop it at once, as if it crashed."""
        self._run("pg_ctl", "-D", str(self.directory / "data"), "-m", "immediate", "-w", "stop")


@contextmanager
def private_postgres() -> Iterator[PrivatePostgres]:
    """A new, started cluster, removed afterwards (skipped, or failed under CI, without initdb).
    It lives in a directory of its own under the system's temporary directory, since the
    ``postgres`` user cannot enter pytest's (root-only) ones."""
    binaries = _binaries()
    if binaries is None:
        _unavailable("PostgreSQL's initdb is not installed")
    assert binaries is not None
    cluster = PrivatePostgres(Path(tempfile.mkdtemp(prefix="ostiary-pg-")), free_port(), binaries)
    try:
        cluster.initialize()
        cluster.start()
        yield cluster
    finally:
        with suppress(subprocess.CalledProcessError):
            cluster.stop()
        shutil.rmtree(cluster.directory, ignore_errors=True)
