"""The ``ostiary`` command line as its users run it: a subprocess with its own HOME (so its
netrc is the test's), pointed at a test server, with no token in the environment unless a test
puts one there."""

from __future__ import annotations

import os
import subprocess
import sys
from dataclasses import dataclass, field
from pathlib import Path

from tests.support.server import ServerProcess
from tests.support.terminal import Terminal, converse, spawn

NO_KEYRING = "keyring.backends.fail.Keyring"
FILE_KEYRING = "keyrings.alt.file.PlaintextKeyring"


@dataclass
class OstiaryCLI:
    """``ostiary`` for one user (one HOME) against one server."""

    server: ServerProcess
    home: Path
    # None leaves the choice to keyring itself, as on a user's machine.
    keyring_backend: str | None = NO_KEYRING
    extra_env: dict[str, str] = field(default_factory=dict)

    def env(self, api_key: str | None = None) -> dict[str, str]:
        """The command's environment."""
        env = {
            k: v
            for k, v in os.environ.items()
            if not k.startswith("OSTIARY_")
            and k not in ("HEROKU_API_KEY", "NETRC", "PYTHON_KEYRING_BACKEND")
        }
        env.update(
            HOME=str(self.home),
            XDG_DATA_HOME=str(self.home / ".local" / "share"),
            XDG_CONFIG_HOME=str(self.home / ".config"),
            OSTIARY_API_URL=self.server.url,
            COLUMNS="200",
        )
        if self.keyring_backend is not None:
            env["PYTHON_KEYRING_BACKEND"] = self.keyring_backend
        if self.server.tls:
            env["OSTIARY_CA_BUNDLE"] = str(self.server.cert_path)
        if api_key is not None:
            env["OSTIARY_API_KEY"] = api_key
        env.update(self.extra_env)
        return env

    def run(
        self, *args: str, api_key: str | None = None, stdin: str | None = None
    ) -> subprocess.CompletedProcess[str]:
        """Run a command without a terminal and capture its output."""
        return subprocess.run(
            [sys.executable, "-m", "ostiary", *args],
            env=self.env(api_key),
            input=stdin,
            stdin=None if stdin is not None else subprocess.DEVNULL,
            capture_output=True,
            text=True,
            timeout=120,
            check=False,
        )

    def spawn(self, *args: str) -> Terminal:
        """Start a command on a pseudo-terminal."""
        return spawn([sys.executable, "-m", "ostiary", *args], self.env())

    def run_on_terminal(self, args: list[str], answers: list[tuple[str, str]]) -> tuple[int, str]:
        """Run a command on a pseudo-terminal, answering its prompts in turn."""
        return converse([sys.executable, "-m", "ostiary", *args], self.env(), answers)

    @property
    def netrc(self) -> Path:
        """The user's netrc file."""
        return self.home / ".netrc"
