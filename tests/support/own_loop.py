"""Running a coroutine from a synchronous test on a thread with an event loop of its own:
another test's loop (Playwright's, in the same xdist worker) may still be running on this
thread, and ``asyncio.run`` refuses to start inside it."""

from __future__ import annotations

import asyncio
import threading
from collections.abc import Callable, Coroutine
from typing import Any, TypeVar

T = TypeVar("T")


def run_in_own_loop(make: Callable[[], Coroutine[Any, Any, T]], timeout: float = 60.0) -> T:
    """``make()``'s result (or its exception), run to completion on a fresh loop and thread."""
    outcome: list[T] = []
    failure: list[BaseException] = []

    def run() -> None:
        try:
            outcome.append(asyncio.run(make()))
        except BaseException as error:  # handed to the test's thread
            failure.append(error)

    worker = threading.Thread(target=run)
    worker.start()
    worker.join(timeout)
    if failure:
        raise failure[0]
    assert outcome, f"the coroutine did not finish within {timeout} s"
    return outcome[0]
