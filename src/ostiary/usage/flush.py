"""The usage flush: the frequent job that takes a worker's buffer and writes it, with the
anomalies it shows, in one transaction (``app.frequent_jobs``; once more at a graceful stop).

A flush that fails hands its batch back to the buffer, to be written with the next one; the
alert sink runs in the same transaction, so a failed flush raises no alert and its retry
raises it once.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from datetime import datetime

from sqlalchemy.orm import Session

from ostiary.alerts.records import AlertSink, Anomaly
from ostiary.clock import utcnow
from ostiary.db import Database
from ostiary.usage.buffer import UsageBuffer
from ostiary.usage.rules import Thresholds
from ostiary.usage.services import record_usage


def no_alerts(session: Session, anomalies: Sequence[Anomaly]) -> None:
    """The default sink: anomalies are found, and go nowhere (until alerts are wired)."""


class UsageFlush:
    """Writes what a buffer counted; called with the database by the frequent job."""

    def __init__(
        self,
        buffer: UsageBuffer,
        thresholds: Thresholds,
        sink: AlertSink = no_alerts,
        clock: Callable[[], datetime] = utcnow,
    ) -> None:
        self.buffer = buffer
        self.thresholds = thresholds
        self.sink = sink
        self.clock = clock

    def __call__(self, database: Database) -> list[Anomaly]:
        """Flush once; the anomalies handed to the sink."""
        batch = self.buffer.take()
        if not batch:
            return []
        try:
            with database.unit_of_work(write=True) as session:
                anomalies = record_usage(session, batch, self.thresholds, self.clock())
                if anomalies:
                    self.sink(session, anomalies)
        except BaseException:
            self.buffer.restore(batch)
            raise
        return anomalies
