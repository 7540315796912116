"""A private Redis server for tests: ``redis-server`` as a child process on a free port, keeping
nothing on disk, stopped and started at will (on the same port) for outage tests. The machine's
own Redis is never touched.

Skipped with the reason when ``redis-server`` is missing (a developer's laptop); under CI (``CI``
set) that fails instead, as the suite's other required tools do.
"""

from __future__ import annotations

import os
import shutil
import socket
import subprocess
import tempfile
import time
from pathlib import Path

import pytest

from tests.support.server import free_port


class PrivateRedis:
    """One ``redis-server`` bound to 127.0.0.1 on a port of its own."""

    def __init__(self) -> None:
        binary = shutil.which("redis-server")
        if binary is None:
            reason = "redis-server is not installed"
            if os.environ.get("CI"):
                pytest.fail(f"CI needs a private Redis: {reason}")
            pytest.skip(reason)
        assert binary is not None
        self._binary = binary
        self.port = free_port()
        self._dir = Path(tempfile.mkdtemp(prefix="ostiary-redis-"))
        self._process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The URL Ostiary takes (``OSTIARY_REDIS_URL``)."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def socket_url(self) -> str:
        """The same server through its Unix socket."""
        return f"unix://{self._dir / 'redis.sock'}?db=0"

    @property
    def running(self) -> bool:
        """Whether the server process is up."""
        return self._process is not None and self._process.poll() is None

    def start(self) -> None:
        """Start the server and wait until it accepts connections."""
        with (self._dir / "redis.log").open("ab") as log:
            self._process = subprocess.Popen(
                [self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
                 "--appendonly", "no", "--dir", str(self._dir),
                 "--unixsocket", str(self._dir / "redis.sock"), "--unixsocketperm", "700"],
                stdout=log, stderr=subprocess.STDOUT,
            )  # fmt: skip
        deadline = time.monotonic() + 10
        while time.monotonic() < deadline:
            try:
                with socket.create_connection(("127.0.0.1", self.port), timeout=0.2):
                    return
            except OSError:
                time.sleep(0.05)
        raise AssertionError(f"redis-server did not start on port {self.port}")

    def stop(self) -> None:
        """Stop the server at once (SIGKILL: its data is gone, as after a crash)."""
        if self._process is not None:
            self._process.kill()
            self._process.wait(timeout=10)
            self._process = None

    def destroy(self) -> None:
        """Stop the server and delete its directory."""
        self.stop()
        shutil.rmtree(self._dir, ignore_errors=True)


SECRET = b"a server secret for tests, which keys the digests in Redis keys"
