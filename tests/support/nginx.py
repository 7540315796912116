"""nginx in front of Ostiary nodes, run from the repository's own ``deploy/nginx.conf`` (its
placeholders filled in), with a fresh self-signed P-256 certificate for localhost; a child
process (``daemon off``) in a directory of its own, stopped by its PID."""

from __future__ import annotations

import re
import shutil
import subprocess
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path

import httpx

from tests.support.server import free_port, trusting
from tests.support.tools import require_program

CONFIG_TEMPLATE = Path(__file__).resolve().parents[2] / "deploy" / "nginx.conf"
_PLACEHOLDER = re.compile(r"@[A-Z_]+@")


def self_signed_certificate(directory: Path) -> tuple[Path, Path]:
    """A P-256 certificate for localhost and 127.0.0.1, and its key: (cert, key)."""
    openssl = require_program("openssl", "apt-get install openssl")
    cert, key = directory / "cert.pem", directory / "key.pem"
    command = [
        openssl, "req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:P-256",
        "-nodes", "-days", "2", "-subj", "/CN=localhost",
        "-addext", "subjectAltName=DNS:localhost,IP:127.0.0.1",
        "-keyout", str(key), "-out", str(cert),
    ]  # fmt: skip
    done = subprocess.run(
        command,
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert done.returncode == 0, done.stderr
    return cert, key


def render_config(values: dict[str, str]) -> str:
    """``deploy/nginx.conf`` with each ``@NAME@`` replaced by ``values[NAME]``; every
    placeholder must be given."""
    text = CONFIG_TEMPLATE.read_text()
    for name, value in values.items():
        text = text.replace(f"@{name}@", value)
    left = sorted(set(_PLACEHOLDER.findall(text)))
    assert not left, f"placeholders left unfilled in {CONFIG_TEMPLATE}: {left}"
    return text


class Nginx:
    """nginx terminating TLS on a free loopback port, balancing over ``upstream_ports``."""

    def __init__(self, upstream_ports: Sequence[int]) -> None:
        self._binary = require_program("nginx", "apt-get install nginx")
        # Under /tmp itself and readable: nginx's workers run as nobody when the test is root.
        self.directory = Path(tempfile.mkdtemp(prefix="ostiary-nginx-"))
        self.directory.chmod(0o755)
        self.port = free_port()
        self.config_path = self.directory / "nginx.conf"
        try:
            self.cert_path, key_path = self_signed_certificate(self.directory)
            servers = "\n        ".join(f"server 127.0.0.1:{port};" for port in upstream_ports)
            self.config_path.write_text(
                render_config(
                    {
                        "RUN_DIR": str(self.directory),
                        "LISTEN": f"127.0.0.1:{self.port}",
                        "SERVER_NAME": "localhost",
                        "TLS_CERT": str(self.cert_path),
                        "TLS_KEY": str(key_path),
                        "UPSTREAM_SERVERS": servers,
                    }
                )
            )
        except BaseException:
            shutil.rmtree(self.directory, ignore_errors=True)
            raise
        self.process: subprocess.Popen[bytes] | None = None

    @property
    def url(self) -> str:
        """The public URL: what ``OSTIARY_ISSUER`` is set to."""
        return f"https://localhost:{self.port}"

    def _command(self, *extra: str) -> list[str]:
        return [self._binary, "-p", str(self.directory), "-c", str(self.config_path), *extra]

    def error_log(self) -> str:
        """What nginx logged so far."""
        path = self.directory / "error.log"
        return path.read_text(errors="replace") if path.exists() else ""

    def start(self) -> None:
        """Check the configuration, start nginx, and wait until it answers over TLS."""
        checked = subprocess.run(
            self._command("-t"), capture_output=True, text=True, timeout=30, check=False
        )
        assert checked.returncode == 0, f"nginx -t failed:\n{checked.stderr}"
        with (self.directory / "stderr.log").open("wb") as log:
            self.process = subprocess.Popen(
                self._command("-g", "daemon off;"), stdout=log, stderr=subprocess.STDOUT
            )
        deadline = time.monotonic() + 15
        while True:
            if self.process.poll() is not None:
                raise RuntimeError(f"nginx exited:\n{self.error_log()}")
            try:
                httpx.get(f"{self.url}/health", verify=trusting(self.cert_path), timeout=2)
                return
            except httpx.TransportError:
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.1)

    def stop(self) -> None:
        """Stop nginx (SIGTERM to the master's PID: a fast shutdown) and remove its files."""
        if self.process is not None and self.process.poll() is None:
            self.process.terminate()
            try:
                self.process.wait(timeout=10)
            except subprocess.TimeoutExpired:
                self.process.kill()
                self.process.wait()
        self.process = None
        shutil.rmtree(self.directory, ignore_errors=True)
