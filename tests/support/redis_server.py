"""A private Redis for fault tests: a ``redis-server`` child process on a free loopback port, with
nothing written to disk, stopped (by its PID) and started again on the same port at will. The
machine's own Redis (6379) is never touched."""

from __future__ import annotations

import socket
import subprocess
import time
from pathlib import Path

from tests.support.server import free_port
from tests.support.tools import require_program


class PrivateRedis:
    """One ``redis-server --port P --bind 127.0.0.1 --save "" --appendonly no``."""

    def __init__(self, directory: Path) -> None:
        self._binary = require_program("redis-server", "apt-get install redis-server")
        self.directory = directory
        self.directory.mkdir(parents=True, exist_ok=True)
        self.port = free_port()
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The ``OSTIARY_REDIS_URL`` of this server (database 0)."""
        return f"redis://127.0.0.1:{self.port}/0"

    @property
    def log_path(self) -> Path:
        """Where the server's output goes."""
        return self.directory / "redis.log"

    def start(self) -> None:
        """Start the server (again on the same port) and wait until it answers PING."""
        command = [
            self._binary, "--port", str(self.port), "--bind", "127.0.0.1", "--save", "",
            "--appendonly", "no", "--dir", str(self.directory),
        ]  # fmt: skip
        with self.log_path.open("ab") as log:
            self.process = subprocess.Popen(command, stdout=log, stderr=subprocess.STDOUT)
        deadline = time.monotonic() + 10
        while not self.answers():
            if self.process.poll() is not None or time.monotonic() > deadline:
                raise RuntimeError(f"redis-server did not start:\n{self.log_path.read_text()}")
            time.sleep(0.05)

    def answers(self) -> bool:
        """Whether the server answers PING right now."""
        try:
            with socket.create_connection(("127.0.0.1", self.port), timeout=1) as connection:
                connection.sendall(b"PING\r\n")
                return connection.recv(16).startswith(b"+PONG")
        except OSError:
            return False

    def stop(self) -> None:
        """Stop the server (SIGTERM to its PID) and wait until it is gone."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
