"""Commands on a pseudo-terminal: for CLIs that prompt (hidden password input needs a TTY)."""

from __future__ import annotations

import contextlib
import os
import pty
import re
import select
import time
from collections.abc import Mapping
from pathlib import Path


class Terminal:
    """A running command on a pseudo-terminal: what it printed, and what to type."""

    def __init__(self, pid: int, fd: int) -> None:
        self.pid = pid
        self.fd = fd
        self.output = ""
        self.status: int | None = None

    def _pump(self, wait: float) -> None:
        ready, _, _ = select.select([self.fd], [], [], wait)
        if ready:
            with contextlib.suppress(OSError):  # the terminal closes when the command exits
                self.output += os.read(self.fd, 4096).decode(errors="replace")
        if self.status is None:
            done, code = os.waitpid(self.pid, os.WNOHANG)
            if done:
                self.status = os.waitstatus_to_exitcode(code)

    def read_until(self, pattern: str, timeout: float = 60) -> re.Match[str]:
        """Wait for output matching a regex."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            match = re.search(pattern, self.output)
            if match:
                return match
            if self.status is not None:
                break
            self._pump(0.2)
        raise AssertionError(f"never printed {pattern!r}; it printed:\n{self.output}")

    def send(self, text: str) -> None:
        """Type on the terminal."""
        os.write(self.fd, text.encode())

    def wait(self, timeout: float = 60) -> int:
        """The exit code, after the command ends (killed after ``timeout``)."""
        deadline = time.monotonic() + timeout
        while self.status is None and time.monotonic() < deadline:
            self._pump(0.2)
        if self.status is None:
            os.kill(self.pid, 9)
            os.waitpid(self.pid, 0)
            raise AssertionError(f"did not finish; it printed:\n{self.output}")
        os.close(self.fd)
        return self.status


def spawn(argv: list[str], env: Mapping[str, str], cwd: Path | None = None) -> Terminal:
    """Start a command on a pseudo-terminal (in ``cwd`` when given), for a test to converse
    with."""
    pid, fd = pty.fork()
    if pid == 0:  # the child: become the command
        if cwd is not None:
            os.chdir(cwd)
        os.execve(argv[0], argv, dict(env))
    return Terminal(pid, fd)


def converse(
    argv: list[str],
    env: Mapping[str, str],
    answers: list[tuple[str, str]],
    timeout: float = 120,
    cwd: Path | None = None,
) -> tuple[int, str]:
    """Run a command on a pseudo-terminal, answering each prompt (a regex) in turn; its exit
    code and everything it printed."""
    terminal = spawn(argv, env, cwd)
    for prompt, reply in answers:
        terminal.read_until(prompt, timeout)
        terminal.send(reply + "\r")
    return terminal.wait(timeout), terminal.output
