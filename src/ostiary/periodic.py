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


class Nudge:
    """Asks a runner to run now rather than at the end of its interval: a request that queued
    mail carrying a link, or a sealing that queued a notification, wakes the sending once it has
    committed, so the mail leaves in seconds. Within one process; in another worker the interval
    still sends it."""

    def __init__(self) -> None:
        self._event = asyncio.Event()
        self._loop: asyncio.AbstractEventLoop | None = None

    def wake(self) -> None:
        """Run the runner's jobs soon: from the event loop, or from a job's thread (the sealing
        runs in one). Wakes during a run count once: the jobs run once more after it."""
        loop = self._loop
        try:
            on_loop = loop is None or asyncio.get_running_loop() is loop
        except RuntimeError:  # no loop in this thread: a job's
            on_loop = False
        if on_loop:
            self._event.set()
        elif loop is not None:
            loop.call_soon_threadsafe(self._event.set)

    async def wait(self, timeout: float) -> None:
        """Return when woken or after ``timeout`` seconds, whichever is first."""
        self._loop = asyncio.get_running_loop()
        with contextlib.suppress(TimeoutError):
            await asyncio.wait_for(self._event.wait(), timeout)
        self._event.clear()


class PeriodicRunner:
    """Runs its jobs one after the other, every ``interval`` seconds (with jitter), or sooner
    when its :class:`Nudge` is woken."""

    def __init__(
        self,
        jobs: Sequence[Job],
        context: JobContext,
        interval: float,
        nudge: Nudge | None = None,
    ) -> None:
        self.jobs = tuple(jobs)
        self.context = context
        self.interval = interval
        self.nudge = nudge

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
        while True:
            if self.nudge is None:
                await asyncio.sleep(self.next_delay())
            else:
                await self.nudge.wait(self.next_delay())
            await asyncio.to_thread(self.run_once)
