"""Prometheus metrics of the server, and their exposition.

With several worker processes each counts in its own memory-mapped file under
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode, which ``ostiary serve`` sets
up before the workers start), and ``GET /metrics`` sums them. With one process the default
registry serves.
"""

from __future__ import annotations

import os
import shutil
from pathlib import Path

from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    CollectorRegistry,
    Counter,
    generate_latest,
)
from prometheus_client.multiprocess import MultiProcessCollector

MULTIPROCESS_ENV = "PROMETHEUS_MULTIPROC_DIR"

SHARED_STATE_FAILURES = Counter(
    "ostiary_shared_state_failures_total",
    "Calls to the shared state (Redis) that failed or were skipped while it was unreachable, "
    "by use: rate_limit (fails open), throttle (fails closed), wakeups (falls back to polling).",
    ["use"],
)

# Counted by the monitoring issue's packages (alerts, webhooks); the request metrics and the
# rest of the operations list live beside them.
ALERTS_RAISED = Counter("ostiary_alerts_raised_total", "Anomaly alerts raised, by rule.", ["rule"])
WEBHOOK_DELIVERIES = Counter(
    "ostiary_webhook_deliveries_total",
    "Webhook delivery attempts, by outcome: delivered, failed (to be retried), abandoned.",
    ["outcome"],
)


def prepare_multiprocess(directory: Path) -> None:
    """Start the worker processes' metric files afresh in ``directory`` (the files of an earlier
    run would be summed in otherwise) and tell the workers about it through the environment."""
    shutil.rmtree(directory, ignore_errors=True)
    directory.mkdir(parents=True, mode=0o700)
    os.environ[MULTIPROCESS_ENV] = str(directory)


def exposition() -> tuple[bytes, str]:
    """The current metrics in Prometheus' text format, and its content type."""
    if os.environ.get(MULTIPROCESS_ENV):
        registry = CollectorRegistry()
        MultiProcessCollector(registry)  # type: ignore[no-untyped-call]
        return generate_latest(registry), CONTENT_TYPE_LATEST
    return generate_latest(REGISTRY), CONTENT_TYPE_LATEST
