"""A nudge runs a periodic runner's jobs at once instead of at the end of its interval."""

from __future__ import annotations

import asyncio
import time

from ostiary.periodic import Job, JobContext, Nudge, PeriodicRunner
from tests.support.own_loop import run_in_own_loop


def test_a_nudged_runner_runs_in_well_under_its_interval() -> None:
    ran: list[float] = []
    nudge = Nudge()
    runner = PeriodicRunner(
        [Job("count", lambda context: ran.append(time.monotonic()))],
        JobContext(database=None, settings=None),  # type: ignore[arg-type]
        interval=60.0,
        nudge=nudge,
    )

    async def scenario() -> float:
        task = asyncio.create_task(runner.run_forever())
        await asyncio.sleep(0.1)
        assert ran == []  # nothing before its interval
        started = time.monotonic()
        nudge.wake()
        for _ in range(100):
            if ran:
                break
            await asyncio.sleep(0.02)
        task.cancel()
        return started

    started = run_in_own_loop(scenario)
    assert len(ran) == 1
    assert ran[0] - started < 1.0
