"""The periodic runner: every job every tick, and a failing job never stops the others or the
loop (the database away for a moment is logged and tried again)."""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import pytest

from ostiary.config import load_settings
from ostiary.db import Database
from ostiary.periodic import Job, JobContext, Nudge, PeriodicRunner


@pytest.fixture
def context(tmp_path: Path) -> Iterator[JobContext]:
    settings = load_settings(data_dir=tmp_path)
    database = Database(settings.effective_database_url)
    yield JobContext(database, settings)
    database.dispose()


class Flaky:
    """Fails its first ``failures`` runs (as a job does while the database is down)."""

    def __init__(self, failures: int) -> None:
        self.failures = failures
        self.runs = 0

    def __call__(self, context: JobContext) -> None:
        self.runs += 1
        if self.runs <= self.failures:
            raise ConnectionError("connection refused\n[SQL: DELETE ... secret parameters]")


def test_a_failing_job_is_logged_and_the_next_one_still_runs(
    context: JobContext, caplog: pytest.LogCaptureFixture
) -> None:
    broken, healthy = Flaky(failures=1), Flaky(failures=0)
    runner = PeriodicRunner([Job("broken", broken), Job("healthy", healthy)], context, 60)
    with caplog.at_level(logging.WARNING, logger="ostiary.periodic"):
        assert runner.run_once() == {"broken": False, "healthy": True}
    assert "periodic job 'broken' failed (ConnectionError: connection refused)" in caplog.text
    assert "secret parameters" not in caplog.text  # only the first line of a driver's message
    assert runner.run_once() == {"broken": True, "healthy": True}  # the next tick retries


def test_the_loop_keeps_going_after_failures(context: JobContext) -> None:
    flaky = Flaky(failures=2)

    async def run_until_recovered() -> None:
        runner = PeriodicRunner([Job("flaky", flaky)], context, 0.01)
        task = asyncio.create_task(runner.run_forever())
        try:
            async with asyncio.timeout(30):
                while flaky.runs <= flaky.failures:
                    await asyncio.sleep(0.01)
            assert not task.done()  # still running after the failures
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    # A loop of its own in a thread of its own: Playwright's sync API may already run one in
    # this thread when the browser tests share the worker.
    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, run_until_recovered()).result()
    assert flaky.runs > flaky.failures


def test_a_woken_runner_runs_its_jobs_at_once_not_at_the_end_of_its_interval(
    context: JobContext,
) -> None:
    """The sealing wakes the sending when it queued a notification (app.frequent_jobs), from
    the thread it runs in."""
    runs = Flaky(failures=0)

    async def wake_from_a_thread() -> None:
        nudge = Nudge()
        runner = PeriodicRunner([Job("sending", runs)], context, 3600, nudge=nudge)
        task = asyncio.create_task(runner.run_forever())
        try:
            await asyncio.sleep(0.05)
            assert runs.runs == 0  # an hour's interval
            await asyncio.to_thread(nudge.wake)  # as a job's thread calls it
            async with asyncio.timeout(10):
                while runs.runs == 0:
                    await asyncio.sleep(0.01)
        finally:
            task.cancel()
            with pytest.raises(asyncio.CancelledError):
                await task

    with ThreadPoolExecutor(1) as pool:
        pool.submit(asyncio.run, wake_from_a_thread()).result()
    assert runs.runs == 1
