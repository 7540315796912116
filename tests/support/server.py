"""A real Ostiary server process for tests: its own data directory, a free loopback port."""

from __future__ import annotations

import os
import socket
import ssl
import subprocess
import sys
import time
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path

import httpx

API_HEADERS = {"Accept": "application/vnd.heroku+json; version=3"}

# Seconds a test waits for an answer that hashes or checks a password. The server runs argon2 at
# the lowest CPU priority (ostiary.security.passwords), so on a machine busy with other tests'
# browsers and servers one check can take far longer than httpx's default 5 s.
PASSWORD_WORK_TIMEOUT = 60.0
# A server setting: its rate-limit pools do not refill during a test (Heroku's rate gives one
# request back every 0.8 s), so each counted request is exactly one less remaining.
NO_REFILL = {"OSTIARY_RATE_LIMIT_PER_MINUTE": "0.001"}


def trusting(cert_path: Path) -> ssl.SSLContext:
    """A TLS context that trusts exactly this (self-signed) certificate."""
    return ssl.create_default_context(cafile=str(cert_path))


def free_port() -> int:
    """A TCP port nobody listens on right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port: int = sock.getsockname()[1]
        return port


@dataclass
class ServerProcess:
    """A running ``ostiary serve`` process."""

    data_dir: Path
    port: int
    env: dict[str, str]
    tls: bool = False
    process: subprocess.Popen[bytes] | None = None
    log_path: Path = field(init=False)

    def __post_init__(self) -> None:
        self.log_path = self.data_dir / "server.log"

    @property
    def url(self) -> str:
        """The server's base URL."""
        scheme = "https" if self.tls else "http"
        return f"{scheme}://127.0.0.1:{self.port}"

    @property
    def cert_path(self) -> Path:
        """The generated certificate (TLS servers)."""
        return self.data_dir / "tls" / "cert.pem"

    def client(self, token: str | None = None, **kwargs: object) -> httpx.Client:
        """An HTTP client for this server, sending the API's Accept header."""
        headers = dict(API_HEADERS)
        if token:
            headers["Authorization"] = f"Bearer {token}"
        verify: ssl.SSLContext | bool = trusting(self.cert_path) if self.tls else True
        return httpx.Client(base_url=self.url, headers=headers, verify=verify, timeout=30, **kwargs)  # type: ignore[arg-type]

    def log(self) -> str:
        """Everything the server printed so far."""
        return self.log_path.read_text(errors="replace") if self.log_path.exists() else ""

    def stop(self) -> None:
        """Stop the server gracefully (SIGTERM) and wait for it; kill it only if it is still
        running after a minute (a graceful stop seals and flushes, slowly on a loaded machine;
        tests read what it left)."""
        if self.process and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=60)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()


def ostiary_env(data_dir: Path, extra: Mapping[str, str] | None = None) -> dict[str, str]:
    """An environment for an ``ostiary`` subprocess with its own data directory."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("OSTIARY_")}
    env["OSTIARY_DATA_DIR"] = str(data_dir)
    env.update(extra or {})
    return env


def run_cli(
    *args: str, env: Mapping[str, str], stdin: str | None = None
) -> subprocess.CompletedProcess[str]:
    """Run the ``ostiary`` command line and capture its output."""
    return subprocess.run(
        [sys.executable, "-m", "ostiary", *args],
        input=stdin,
        capture_output=True,
        text=True,
        env=dict(env),
        timeout=120,
        check=False,
    )


def start_server(
    data_dir: Path,
    *,
    settings: Mapping[str, str] | None = None,
    tls: bool = False,
    workers: int = 1,
) -> ServerProcess:
    """Migrate a fresh data directory and start ``ostiary serve`` on a free port."""
    data_dir.mkdir(parents=True, exist_ok=True)
    env = ostiary_env(data_dir, settings)
    migrated = run_cli("db", "upgrade", env=env)
    assert migrated.returncode == 0, migrated.stderr
    server = ServerProcess(data_dir=data_dir, port=free_port(), env=env, tls=tls)
    args = ["serve", "--host", "127.0.0.1", "--port", str(server.port), "--workers", str(workers)]
    if not tls:
        args.append("--insecure-http")
    with server.log_path.open("wb") as log:
        server.process = subprocess.Popen(
            [sys.executable, "-m", "ostiary", *args], env=env, stdout=log, stderr=subprocess.STDOUT
        )
    wait_until_healthy(server)
    return server


def wait_until_healthy(server: ServerProcess, timeout: float = 30.0) -> None:
    """Poll ``/health`` until the server answers, or fail with its log."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        assert server.process is not None
        if server.process.poll() is not None:
            raise RuntimeError(f"server exited:\n{server.log()}")
        if server.tls and not server.cert_path.exists():
            time.sleep(0.1)
            continue
        try:
            verify: ssl.SSLContext | bool = trusting(server.cert_path) if server.tls else True
            if httpx.get(f"{server.url}/health", verify=verify, timeout=2).status_code == 200:
                return
        except (httpx.TransportError, ssl.SSLError):
            # ssl.SSLError: the certificate file is being written (a loaded machine sees it
            # half-written); try again with the whole file.
            pass
        time.sleep(0.1)
    server.stop()
    raise RuntimeError(f"server did not become healthy:\n{server.log()}")
