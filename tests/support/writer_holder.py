"""Another process holding an SQLite database's writer role, as another worker would."""

from __future__ import annotations

import subprocess
import sys
from pathlib import Path


class WriterHolder:
    """A process that takes ``ostiary.db.WriterLock`` on a database at start and holds it until
    :meth:`release` (its release wakes the waiting event loops, as a worker's does)."""

    def __init__(self, database_path: Path) -> None:
        script = (
            "import sys\n"
            "from ostiary.db import WriterLock\n"
            f"lock = WriterLock({str(database_path)!r})\n"
            "lock.acquire()\n"
            "print('held', flush=True)\n"
            "sys.stdin.readline()\n"
            "lock.release()\n"
            "print('released', flush=True)\n"
        )
        self.process = subprocess.Popen(
            [sys.executable, "-c", script], stdin=subprocess.PIPE, stdout=subprocess.PIPE, text=True
        )
        assert self.process.stdout is not None
        assert self.process.stdout.readline().strip() == "held"

    def release(self) -> None:
        """Let go of the role, and return once it is released."""
        assert self.process.stdin is not None
        assert self.process.stdout is not None
        self.process.stdin.write("\n")
        self.process.stdin.flush()
        assert self.process.stdout.readline().strip() == "released"
        self.process.communicate(timeout=10)  # and close the pipes

    def stop(self) -> None:
        """End the process if it still runs (the kernel releases its lock)."""
        if self.process.poll() is None:
            self.process.kill()
            self.process.communicate(timeout=10)
