"""The real heroku CLI (npm package ``heroku``), installed once into a cache outside the repo
and run against an Ostiary server with every variable that keeps its traffic at home."""

from __future__ import annotations

import os
import shutil
import subprocess
from dataclasses import dataclass
from pathlib import Path

import pytest

from tests.support.server import ServerProcess
from tests.support.terminal import Terminal, converse, spawn

CLI_VERSION = "11"
HERE = Path(__file__).parent


def cache_dir() -> Path:
    """Where the CLI is installed: ~/.cache/ostiary-tests/heroku-cli."""
    return Path.home() / ".cache" / "ostiary-tests" / "heroku-cli"


def ensure_installed() -> Path:
    """The heroku executable, installing it with npm on first use; skip (or, in CI, fail)
    when npm is missing or the install fails."""
    binary = cache_dir() / "node_modules" / ".bin" / "heroku"
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    reason = "npm is not installed" if npm is None else ""
    if npm is not None:
        cache_dir().mkdir(parents=True, exist_ok=True)
        result = subprocess.run(
            [
                npm,
                "install",
                "--prefix",
                str(cache_dir()),
                f"heroku@{CLI_VERSION}",
                "--no-audit",
                "--no-fund",
            ],
            capture_output=True,
            text=True,
            timeout=900,
            check=False,
        )
        if result.returncode == 0 and binary.exists():
            return binary
        reason = f"npm install heroku@{CLI_VERSION} failed: {result.stderr[-500:]}"
    if os.environ.get("CI"):
        pytest.fail(f"CI needs the heroku CLI: {reason}")
    pytest.skip(f"the heroku CLI is not available: {reason}")


@dataclass
class HerokuCLI:
    """The heroku CLI pointed at one Ostiary server, with its own HOME."""

    binary: Path
    server: ServerProcess
    home: Path

    @property
    def remote_log(self) -> Path:
        """Hosts the CLI tried to look up other than this machine (should stay empty)."""
        return self.home / "remote-lookups.log"

    def env(self, api_key: str | None = None) -> dict[str, str]:
        """The environment: API, login and particleboard hosts all point at the server."""
        url = f"https://localhost:{self.server.port}"
        env = {
            "PATH": os.environ.get("PATH", ""),
            "HOME": str(self.home),
            "HEROKU_HOST": url,
            "HEROKU_LOGIN_HOST": url,
            "HEROKU_PARTICLEBOARD_URL": url,
            "NODE_EXTRA_CA_CERTS": str(self.server.cert_path),
            "NODE_OPTIONS": f"--require {HERE / 'deny_remote.cjs'}",
            "OSTIARY_REMOTE_LOG": str(self.remote_log),
            "DISABLE_TELEMETRY": "true",
            "HEROKU_DISABLE_AUTOUPDATE": "1",
            "HEROKU_SKIP_NEW_VERSION_CHECK": "true",
            "HEROKU_SKIP_ANALYTICS": "1",
            "HEROKU_UPDATE_INSTRUCTIONS": "none",
            "NO_COLOR": "1",
            "FORCE_COLOR": "0",
            "TERM": "dumb",
        }
        if api_key:
            env["HEROKU_API_KEY"] = api_key
        return env

    def run(self, *args: str, api_key: str | None = None) -> subprocess.CompletedProcess[str]:
        """Run a command without a terminal and capture its output."""
        return subprocess.run(
            [str(self.binary), *args],
            env=self.env(api_key),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def spawn(self, args: list[str]) -> Terminal:
        """Start a command on a pseudo-terminal, for a test to converse with."""
        return spawn([str(self.binary), *args], self.env())

    def run_on_terminal(
        self, args: list[str], answers: list[tuple[str, str]], timeout: float = 120
    ) -> tuple[int, str]:
        """Run a command on a pseudo-terminal, answering each prompt (a regex) in turn."""
        return converse([str(self.binary), *args], self.env(), answers, timeout)
