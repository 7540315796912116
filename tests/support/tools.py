"""Programs a test needs from the machine (nginx, openssl, redis-server): found, or the test skips
with the reason; under CI (``CI`` set) a missing program fails the test instead, as
``tests.support.pg_cluster`` does for PostgreSQL."""

from __future__ import annotations

import os
import shutil

import pytest


def unavailable(reason: str) -> None:
    """Skip with ``reason``, or fail under CI, where every tool must be installed."""
    if os.environ.get("CI"):
        pytest.fail(f"CI needs it: {reason}")
    pytest.skip(reason)


def require_program(name: str, install: str) -> str:
    """The path of program ``name``; skipped (failed under CI) with how to install it."""
    found = shutil.which(name) or next(
        (f"{d}/{name}" for d in ("/usr/sbin", "/sbin") if os.access(f"{d}/{name}", os.X_OK)),
        None,
    )
    if found is None:
        unavailable(f"{name} is not installed ({install})")
    assert found is not None
    return found
