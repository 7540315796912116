"""The real heroku CLI (npm package ``heroku``), installed once into a cache outside the repo
and run against an Ostiary server with every variable that keeps its traffic at home."""

from __future__ import annotations

import fcntl
import os
import shutil
import subprocess
import tempfile
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


def _binary(root: Path) -> Path:
    return root / "node_modules" / ".bin" / "heroku"


def install(npm: str, root: Path) -> str:
    """Install the CLI into ``root`` unless it is there already; '' on success, else why not.

    Safe when several pytest-xdist workers (or several test runs) start on a cold cache at once:
    they queue on an exclusive lock beside the folder, and the first one installs into a fresh
    temporary folder that is renamed into place only once npm has succeeded, so the others find
    a complete install and nobody ever sees (or runs) a half-written one.
    """
    root.parent.mkdir(parents=True, exist_ok=True)
    with (root.parent / f"{root.name}.lock").open("w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)  # released when the file closes
        if _binary(root).exists():
            return ""
        staging = Path(tempfile.mkdtemp(prefix=f".{root.name}-", dir=root.parent))
        try:
            result = subprocess.run(
                [
                    npm,
                    "install",
                    "--prefix",
                    str(staging),
                    f"heroku@{CLI_VERSION}",
                    "--no-audit",
                    "--no-fund",
                ],
                capture_output=True,
                text=True,
                timeout=900,
                check=False,
            )
            if result.returncode != 0 or not _binary(staging).exists():
                return f"npm install heroku@{CLI_VERSION} failed: {result.stderr[-500:]}"
            if root.exists():  # a partial install left by an interrupted run before this lock
                shutil.rmtree(root)
            staging.rename(root)
            return ""
        finally:
            shutil.rmtree(staging, ignore_errors=True)


def ensure_installed() -> Path:
    """The heroku executable, installing it with npm on first use; skip (or, in CI, fail)
    when npm is missing or the install fails."""
    binary = _binary(cache_dir())
    if binary.exists():
        return binary
    npm = shutil.which("npm")
    reason = "npm is not installed" if npm is None else install(npm, cache_dir())
    if not reason:
        return binary
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
        """Run a command without a terminal and capture its output.

        Every command runs in the test's HOME, never in this repository: in a git checkout
        ``heroku apps:create`` adds a ``heroku`` remote, and later commands take their app from
        it."""
        return subprocess.run(
            [str(self.binary), *args],
            cwd=self.home,
            env=self.env(api_key),
            capture_output=True,
            text=True,
            timeout=180,
            check=False,
            stdin=subprocess.DEVNULL,
        )

    def spawn(self, args: list[str], api_key: str | None = None) -> Terminal:
        """Start a command on a pseudo-terminal, for a test to converse with."""
        return spawn([str(self.binary), *args], self.env(api_key), self.home)

    def run_on_terminal(
        self,
        args: list[str],
        answers: list[tuple[str, str]],
        timeout: float = 120,
        api_key: str | None = None,
    ) -> tuple[int, str]:
        """Run a command on a pseudo-terminal, answering each prompt (a regex) in turn."""
        return converse([str(self.binary), *args], self.env(api_key), answers, timeout, self.home)
