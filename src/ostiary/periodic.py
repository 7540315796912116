"""Time-based work inside the server: a small registry of jobs, run by each worker every
``OSTIARY_PERIODIC_INTERVAL`` seconds (60 by default).

Each worker runs its own loop, started and stopped with the application (``app.lifespan``), so
jobs must be safe to run in several processes at once (idempotent, short transactions). Jobs are
synchronous and run in a thread, never on the event loop. A job that fails (the database is away
for a moment) is logged and tried again at the next tick; it never stops the loop, the other
jobs or the server. Later work registers its jobs in :func:`default_jobs`.
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import random
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from ostiary.activity.chain import chain_key
from ostiary.activity.services import prune_events
from ostiary.alerts.retention import alerts_older_than
from ostiary.config import Settings
from ostiary.db import Database
from ostiary.lifecycle.services import run_lifecycle
from ostiary.notifications.retention import FORGOTTEN
from ostiary.purge import purge_expired
from ostiary.security.server_secret import load_or_create_secret
from ostiary.usage.services import prune as prune_usage
from ostiary.webhooks.retention import FINISHED

logger = logging.getLogger("ostiary.periodic")

# Each wait is the interval give or take this fraction, so workers started together drift apart
# instead of purging in the same instant.
JITTER = 0.1


@dataclass(frozen=True, slots=True)
class JobContext:
    """What a job may use."""

    database: Database
    settings: Settings


@dataclass(frozen=True, slots=True)
class Job:
    """A named piece of periodic work."""

    name: str
    run: Callable[[JobContext], object]


def default_jobs() -> tuple[Job, ...]:
    """The jobs every server runs."""
    return (
        Job("purge expired", lambda context: purge_expired(context.database)),
        # Usage past its 90 days (ostiary.usage.rules.RETENTION), in bounded batches.
        Job("prune usage", lambda context: prune_usage(context.database)),
        Job(
            "prune events",
            lambda context: prune_events(
                context.database,
                context.settings.event_retention_days,
                # The anchor it moves is signed with the chain key (docs/activity-log.md).
                key=chain_key(load_or_create_secret(context.settings)),
            ),
        ),
        # Finished deliveries (30 days), sent mail (7 days), alerts (as long as the events),
        # sign-in places unused for a year and the notifications' memory of notified events.
        Job(
            "prune deliveries, mail and alerts",
            lambda context: purge_expired(
                context.database,
                kinds=(
                    *FINISHED,
                    alerts_older_than(context.settings.event_retention_days),
                    *FORGOTTEN,
                ),
            ),
        ),
        # Expiry warnings and notices, idle revocation (docs/token-lifecycle.md).
        Job("token lifecycle", lambda context: run_lifecycle(context.database, context.settings)),
    )


class PeriodicRunner:
    """Runs its jobs one after the other, every ``interval`` seconds (with jitter), or sooner
    when :meth:`wake` is called."""

    def __init__(self, jobs: Sequence[Job], context: JobContext, interval: float) -> None:
        self.jobs = tuple(jobs)
        self.context = context
        self.interval = interval
        self._loop: asyncio.AbstractEventLoop | None = None
        self._woken: asyncio.Event | None = None

    def wake(self) -> None:
        """Run the jobs now rather than at the end of the interval; from any thread (a job's),
        and a no-op before :meth:`run_forever` starts. Wakes while running count once: the
        jobs run again once more after the current run."""
        loop, woken = self._loop, self._woken
        if loop is not None and woken is not None:
            loop.call_soon_threadsafe(woken.set)

    def run_once(self) -> dict[str, bool]:
        """Run every job once; which succeeded. A failure is logged, never raised."""
        outcome: dict[str, bool] = {}
        for job in self.jobs:
            try:
                job.run(self.context)
            except Exception as error:
                # The class and first line only: a driver's full message can carry parameters.
                first_line = (str(error).splitlines() or [""])[0][:200]
                logger.warning(
                    "periodic job %r failed (%s: %s); trying again in %g s",
                    job.name,
                    type(error).__name__,
                    first_line,
                    self.interval,
                )
                outcome[job.name] = False
            else:
                outcome[job.name] = True
        return outcome

    def next_delay(self) -> float:
        """Seconds until the next run."""
        return self.interval * random.uniform(1 - JITTER, 1 + JITTER)  # noqa: S311 - not secret

    async def run_forever(self) -> None:
        """Run the jobs every interval (or when woken) until cancelled."""
        self._loop = asyncio.get_running_loop()
        self._woken = woken = asyncio.Event()
        while True:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(woken.wait(), self.next_delay())
            woken.clear()
            await asyncio.to_thread(self.run_once)
