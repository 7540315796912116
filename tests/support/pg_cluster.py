"""A private PostgreSQL cluster for fault tests: made with ``initdb`` in a temporary directory,
on a free port, stopped and started at will. The machine's own server is never touched.

Skipped with the reason when the PostgreSQL server binaries or the ``postgres`` user are missing
(a developer's laptop); under CI (``CI`` set) that fails instead, as the suite's other required
tools do.
"""

from __future__ import annotations

import os
import pwd
import shutil
import subprocess
import tempfile
from pathlib import Path

import pytest

from tests.support.server import free_port


def _binaries() -> Path | None:
    found = sorted(Path("/usr/lib/postgresql").glob("*/bin/initdb"))
    return found[-1].parent if found else None


def _unavailable(reason: str) -> None:
    if os.environ.get("CI"):
        pytest.fail(f"CI needs a private PostgreSQL cluster: {reason}")
    pytest.skip(reason)


class PrivateCluster:
    """One ``initdb`` cluster owned by the ``postgres`` user, listening on 127.0.0.1 only."""

    def __init__(self) -> None:
        binaries = _binaries()
        if binaries is None:
            _unavailable("PostgreSQL server binaries (initdb, pg_ctl) are not installed")
        if os.geteuid() != 0 or shutil.which("runuser") is None:
            _unavailable("a private cluster needs root and runuser to run initdb as postgres")
        try:
            owner = pwd.getpwnam("postgres")
        except KeyError:
            _unavailable("there is no postgres user to own a private cluster")
        assert binaries is not None
        self._bin = binaries
        # Under /tmp itself: pytest's own temporary directories are root-only (0700).
        self.base = Path(tempfile.mkdtemp(prefix="ostiary-pg-"))
        os.chown(self.base, owner.pw_uid, owner.pw_gid)
        self.data = self.base / "data"
        self.port = free_port()
        self._as_postgres("initdb", "-D", str(self.data), "-A", "trust", "-U", "postgres")

    def _as_postgres(self, tool: str, *args: str) -> None:
        command = ["runuser", "-u", "postgres", "--", str(self._bin / tool), *args]
        done = subprocess.run(command, capture_output=True, text=True, timeout=120, check=False)
        assert done.returncode == 0, f"{tool} failed:\n{done.stdout}\n{done.stderr}"

    @property
    def admin_url(self) -> str:
        """The driver URL of the cluster's maintenance database."""
        return f"postgresql://postgres@127.0.0.1:{self.port}/postgres"

    def url(self, database: str) -> str:
        """The SQLAlchemy URL Ostiary takes for one database of this cluster."""
        return f"postgresql+psycopg://postgres@127.0.0.1:{self.port}/{database}"

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        options = f"-p {self.port} -k /tmp -c listen_addresses=127.0.0.1"
        # -l always: without a log file postgres inherits our pipes and run() never returns.
        self._as_postgres(
            "pg_ctl", "-D", str(self.data), "-o", options, "-l", str(self.base / "pg.log"), "-w",
            "start",
        )  # fmt: skip

    def stop(self) -> None:
        """Stop the server at once, as a crash or a pulled cable would (no clean shutdown)."""
        self._as_postgres("pg_ctl", "-D", str(self.data), "-m", "immediate", "-w", "stop")

    def create_database(self, name: str) -> str:
        """Create a database and return its SQLAlchemy URL."""
        import psycopg

        with psycopg.connect(self.admin_url, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'CREATE DATABASE "{name}"')
        return self.url(name)

    def destroy(self) -> None:
        """Stop the server if it runs and delete its files."""
        if (self.data / "postmaster.pid").exists():
            self.stop()
        shutil.rmtree(self.base, ignore_errors=True)
