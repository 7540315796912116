"""Prometheus metrics of the server, and their exposition.

With several worker processes each counts in its own memory-mapped file under
``PROMETHEUS_MULTIPROC_DIR`` (prometheus-client's multiprocess mode, which ``ostiary serve`` sets
up before the workers start), and ``GET /metrics`` sums them. With one process the default
registry serves.

Every label takes a bounded set of values: route templates (never paths or ids), statuses,
methods, grant types and failure reasons that the code names, never what a client sent
(docs/operations.md lists them all).
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
    Histogram,
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

# Operations (issue 14): requests, authentication, tokens, limits, the database.
REQUESTS = Counter(
    "ostiary_http_requests_total",
    "HTTP requests answered, by method, route template (unmatched for no route) and status.",
    ["method", "route", "status"],
)
REQUEST_DURATION = Histogram(
    "ostiary_http_request_duration_seconds",
    "Time from a request's first byte to its response's last, by method, route template and "
    "status.",
    ["method", "route", "status"],
    buckets=(0.001, 0.0025, 0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0),
)
AUTH_FAILURES = Counter(
    "ostiary_auth_failures_total",
    "Failed authentications, by credential (token, password, client) and reason (the audit "
    "event's reason, e.g. unknown_token, revoked_token, wrong_password).",
    ["credential", "reason"],
)
TOKENS_ISSUED = Counter(
    "ostiary_tokens_issued_total",
    "Access tokens issued, by grant: the OAuth token endpoint's grant types, and the Platform "
    "API's authorization (a token's child), password (a Basic password login) and regenerate.",
    ["grant"],
)
RATE_LIMITED = Counter(
    "ostiary_rate_limited_total",
    "Requests refused (429) by a rate limit: account (the Platform API's per-account limit), "
    "login_requests (an address's sign-in and device-code requests).",
    ["limit"],
)
THROTTLED_AUTHENTICATIONS = Counter(
    "ostiary_throttled_authentications_total",
    "Sign-ins and client authentications refused (429) by the failed-authentication throttle "
    "before any password or secret was checked.",
)
DATABASE_ERRORS = Counter(
    "ostiary_database_errors_total",
    "Requests failed by the database: unavailable (unreachable, answered 503), unstorable (a "
    "value it refused, answered 422).",
    ["kind"],
)

_CREDENTIAL_OF_ACTION = {
    "auth:failure": "token",
    "auth:password:failure": "password",
    "oauth:client:auth-failure": "client",
}
_MAX_REASONS = 64  # distinct reason labels; a reason beyond them is counted as "other"
_reasons: set[str] = set()


def _reason_label(reason: object) -> str:
    """A reason as a label: the code's own short phrases, snake_cased; anything else "other"."""
    if not isinstance(reason, str) or not 0 < len(reason) <= 64:
        return "other"
    label = reason.strip().lower().replace(" ", "_").replace("-", "_")
    if not label.replace("_", "").isalpha() or not label.isascii():
        return "other"
    if label not in _reasons:
        if len(_reasons) >= _MAX_REASONS:
            return "other"
        _reasons.add(label)
    return label


def count_auth_failure(action: str, reason: object) -> None:
    """Count a failed authentication from its audit event's action and ``details["reason"]``;
    other audit events are not failures and are ignored."""
    credential = _CREDENTIAL_OF_ACTION.get(action)
    if credential is not None:
        AUTH_FAILURES.labels(credential=credential, reason=_reason_label(reason)).inc()


_GRANT_LABELS = {
    "authorization_code": "authorization_code",
    "refresh_token": "refresh_token",
    "client_credentials": "client_credentials",
    "urn:ietf:params:oauth:grant-type:device_code": "device_code",
    "authorization": "authorization",
    "password": "password",
    "regenerate": "regenerate",
}


def count_token_issued(grant: str) -> None:
    """Count one access token issued by ``grant`` (an OAuth grant type, or one of the Platform
    API's ways: ``authorization``, ``password``, ``regenerate``)."""
    TOKENS_ISSUED.labels(grant=_GRANT_LABELS.get(grant, "other")).inc()


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
