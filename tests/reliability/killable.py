"""A real multi-worker server in a process group of its own, so a test can kill all of it."""

from __future__ import annotations

import signal
import subprocess
import sys
from collections.abc import Mapping
from pathlib import Path

from tests.support.processes import kill_group, process_group, wait_until_gone
from tests.support.server import (
    ServerProcess,
    free_port,
    ostiary_env,
    run_cli,
    wait_until_healthy,
)


def start_in_own_group(
    data_dir: Path, *, workers: int, settings: Mapping[str, str] | None = None
) -> ServerProcess:
    """Start ``ostiary serve`` on a new (migrated first) or existing data directory, as a session
    of its own.

    uvicorn's master and the workers it spawns share the new process group, so
    :func:`kill_server` reaches every one of them, as an OOM killer or a power cut would.
    """
    data_dir.mkdir(parents=True, exist_ok=True)
    env = ostiary_env(data_dir, settings)
    if not (data_dir / "ostiary.db").exists():  # a restart serves the data as it is
        migrated = run_cli("db", "upgrade", env=env)
        assert migrated.returncode == 0, migrated.stderr
    server = ServerProcess(data_dir=data_dir, port=free_port(), env=env)
    args = ["serve", "--host", "127.0.0.1", "--port", str(server.port), "--insecure-http"]
    with server.log_path.open("ab") as log:
        server.process = subprocess.Popen(
            [sys.executable, "-m", "ostiary", *args, "--workers", str(workers)],
            env=env,
            stdout=log,
            stderr=subprocess.STDOUT,
            start_new_session=True,
        )
    wait_until_healthy(server)
    return server


def group_of(server: ServerProcess) -> list[int]:
    """The server's live processes (its group is led by the master)."""
    assert server.process is not None
    return process_group(server.process.pid)


def kill_server(server: ServerProcess) -> list[int]:
    """SIGKILL the server's whole process group and wait until every member is gone."""
    assert server.process is not None
    killed = kill_group(server.process.pid, signal.SIGKILL)
    server.process.wait(timeout=10)
    wait_until_gone(killed)
    return killed
