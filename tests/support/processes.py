"""A server's processes as Linux sees them (``/proc``): its tree, its group, their memory."""

from __future__ import annotations

import os
import time
from pathlib import Path

_PROC = Path("/proc")


def _stat_fields(pid: int) -> list[str] | None:
    """The fields of ``/proc/<pid>/stat`` after the command name (state is the first)."""
    try:
        text = (_PROC / str(pid) / "stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    # The command name is in parentheses and may itself contain spaces or parentheses.
    return text[text.rindex(")") + 2 :].split()


def _all_pids() -> list[int]:
    return [int(entry.name) for entry in _PROC.iterdir() if entry.name.isdigit()]


def _alive(fields: list[str] | None) -> bool:
    return fields is not None and fields[0] not in ("Z", "X")


def process_tree(root: int) -> list[int]:
    """``root`` and every live process descended from it (uvicorn's master and its workers)."""
    children: dict[int, list[int]] = {}
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if _alive(fields):
            assert fields is not None
            children.setdefault(int(fields[1]), []).append(pid)
    tree, pending = [], [root]
    while pending:
        pid = pending.pop()
        if pid == root and not _alive(_stat_fields(pid)):
            continue
        tree.append(pid)
        pending.extend(children.get(pid, []))
    return tree


def process_group(pgid: int) -> list[int]:
    """The live (not zombie) processes of a process group."""
    members = []
    for pid in _all_pids():
        fields = _stat_fields(pid)
        if _alive(fields) and fields is not None and int(fields[2]) == pgid:
            members.append(pid)
    return members


def rss_bytes(pids: list[int]) -> int:
    """The resident memory of these processes, summed (``VmRSS`` of each)."""
    total = 0
    for pid in pids:
        try:
            status = (_PROC / str(pid) / "status").read_text()
        except (FileNotFoundError, ProcessLookupError):
            continue
        for line in status.splitlines():
            if line.startswith("VmRSS:"):
                total += int(line.split()[1]) * 1024
    return total


def wait_until_gone(pids: list[int], timeout: float = 10.0) -> None:
    """Wait until none of these processes runs any more (a zombie counts as gone)."""
    deadline = time.monotonic() + timeout
    while any(_alive(_stat_fields(pid)) for pid in pids):
        if time.monotonic() > deadline:
            raise TimeoutError(f"processes still running: {pids}")
        time.sleep(0.02)


def kill_group(pgid: int, signal: int) -> list[int]:
    """Send ``signal`` to a whole process group; returns the members it reached."""
    members = process_group(pgid)
    try:
        os.killpg(pgid, signal)
    except ProcessLookupError:
        return []
    return members
