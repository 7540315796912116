"""Waiting for what a server does in the background (a job's run, a flush, a delivery): poll a
condition until it holds, or fail saying what never happened."""

from __future__ import annotations

import time
from collections.abc import Callable


def wait_for(what: str, done: Callable[[], bool], timeout: float = 30.0) -> None:
    """Return once ``done()`` is true; fail with "timed out waiting for ``what``" after
    ``timeout`` seconds (generous: a loaded machine runs the jobs late, not never)."""
    deadline = time.monotonic() + timeout
    while not done():
        if time.monotonic() > deadline:
            raise AssertionError(f"timed out waiting for {what}")
        time.sleep(0.2)
