"""``create_app(settings)``: the whole application, assembled in one place.

Middleware, outermost first:

1. ``ProxyHeadersMiddleware`` (uvicorn): takes scheme and client address from ``X-Forwarded-*``
   only when the peer is a configured trusted proxy.
2. ``ConventionsMiddleware``: Request-Id, believed Host names, HTTPS-only, the body size cap,
   security headers, RateLimit-Remaining, ETag/304, and the 500/503 fallback.
3. FastAPI's routing, with the error handlers of ``web.errors``.

Routers: ``/health`` and ``/openapi.json`` take no Accept header; the Platform API routes check it
in their caller dependency (``web.api.deps``).
"""

from __future__ import annotations

import asyncio
import contextlib
import logging
import threading
from collections.abc import AsyncIterator, Callable
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

from fastapi import FastAPI
from fastapi.staticfiles import StaticFiles
from uvicorn.middleware.proxy_headers import ProxyHeadersMiddleware

from ostiary import __version__
from ostiary.accounts.passwords import PasswordChecker
from ostiary.activity.chain import chain_key
from ostiary.activity.services import RUN_SECONDS, seal_events
from ostiary.alerts.services import alert_at_authentication, raise_alerts
from ostiary.config import Settings
from ostiary.db import Database
from ostiary.mail.smtp import MailError, mailer_from
from ostiary.notifications.services import notifications_enqueuer
from ostiary.periodic import Job, JobContext, PeriodicRunner, default_jobs
from ostiary.policies.queries import server_settings
from ostiary.ratelimit import MemoryRateLimiter, RateLimiter
from ostiary.ratelimit.shared import FailOpenRateLimiter, RedisRateLimiter
from ostiary.security.address_limit import AddressLimiter
from ostiary.security.hashing import SecretHasher
from ostiary.security.passwords import PasswordPool
from ostiary.security.sealing import mail_body_sealer
from ostiary.security.server_secret import load_or_create_secret
from ostiary.security.shared_throttle import RedisFailureThrottle
from ostiary.security.throttle import FailureThrottle, MemoryFailureThrottle
from ostiary.shared_state import SharedState
from ostiary.tokens.authenticator import TokenAuthenticator
from ostiary.unit import lifetimes_of
from ostiary.usage.buffer import MemoryUsageBuffer
from ostiary.usage.flush import UsageFlush
from ostiary.usage.rules import Thresholds
from ostiary.wakeups import RedisWakeups, Wakeups
from ostiary.web import (
    authorize,
    dashboard,
    device,
    health,
    heroku_login,
    leaks,
    login,
    metrics,
    oauth,
    passkeys,
    recovery,
)
from ostiary.web.access_log import open_access_log
from ostiary.web.api import (
    account,
    addons,
    alerts,
    apps,
    attachments,
    authorizations,
    clients,
    collaborators,
    config_vars,
    dynos,
    events,
    notifications,
    pipelines,
    releases,
    sessions,
    token_policy,
    tokens,
    usage,
    webhooks,
)
from ostiary.web.context import Services
from ostiary.web.errors import install_error_handlers
from ostiary.web.hosts import HostPolicy
from ostiary.web.hot_routes import hot_routes
from ostiary.web.metrics import RequestMetrics
from ostiary.web.middleware import ConventionsMiddleware
from ostiary.web.observed import RequestObserver
from ostiary.webhooks.jobs import (
    body_seal,
    sealed_event_subscribers,
    send_deliveries,
    send_mail,
)

logger = logging.getLogger("ostiary.app")

STATIC_DIR = Path(__file__).parent / "web" / "static"
API_ROUTERS = (
    apps,
    collaborators,
    config_vars,
    releases,
    addons,
    attachments,
    dynos,
    pipelines,
    authorizations,
    clients,
    tokens,
    sessions,
    alerts,
    usage,
    events,
    webhooks,
    token_policy,
    notifications,
)


@dataclass(frozen=True, slots=True)
class SharedBackends:
    """What several workers and nodes must count together, and how long polls are woken."""

    rate_limiter: RateLimiter
    failure_throttle: FailureThrottle
    login_requests: AddressLimiter
    wakeups: Wakeups


def shared_backends(settings: Settings, secret: bytes) -> SharedBackends:
    """Redis-backed when ``OSTIARY_REDIS_URL`` is set (docs/deployment.md), else this process's
    own: exact for one worker, per worker for several (``ostiary check`` warns)."""
    shared = (
        SharedState(
            settings.redis_url.get_secret_value(), secret=secret, prefix=settings.redis_prefix
        )
        if settings.redis_url is not None
        else None
    )

    def pool(name: str, capacity: int, per_minute: float) -> RateLimiter:
        # In Redis, this process's own pool counts while Redis is away (fail open).
        local = MemoryRateLimiter(capacity, per_minute)
        if shared is None:
            return local
        return FailOpenRateLimiter(RedisRateLimiter(shared, name, capacity, per_minute), local)

    limits = (
        settings.auth_failure_limit,
        settings.auth_failure_window,
        settings.auth_failure_ip_limit,
    )
    logins = settings.login_request_limit
    return SharedBackends(
        rate_limiter=pool("rate", settings.rate_limit_capacity, settings.rate_limit_per_minute),
        failure_throttle=(
            MemoryFailureThrottle(*limits)
            if shared is None
            else RedisFailureThrottle(shared, *limits)
        ),
        login_requests=AddressLimiter(pool("login-requests", logins, float(logins))),
        wakeups=Wakeups() if shared is None else RedisWakeups(shared),
    )


def _mail_configured(settings: Settings) -> bool:
    """Whether mail goes out: an SMTP URL is set and usable (``ostiary check`` says why not)."""
    try:
        return mailer_from(settings) is not None
    except MailError:
        return False


def operations_observers(settings: Settings) -> tuple[RequestObserver, ...]:
    """The request observers of operations: the Prometheus request metrics, then the access
    log unless ``OSTIARY_ACCESS_LOG=off``."""
    access_log = open_access_log(settings.access_log)
    return (RequestMetrics(),) if access_log is None else (RequestMetrics(), access_log)


def build_services(settings: Settings, database: Database | None = None) -> Services:
    """The long-lived collaborators the routes use."""
    database = database or Database(settings.effective_database_url)
    secret = load_or_create_secret(settings)
    hasher = SecretHasher(secret)
    backends = shared_backends(settings, secret)
    # Usage per credential: counted by a request observer, written by the frequent job, whose
    # findings raise their alerts in the flush's transaction.
    usage_flush = (
        UsageFlush(MemoryUsageBuffer(), Thresholds.of(settings), raise_alerts)
        if settings.usage_recording
        else None
    )
    return Services(
        settings=settings,
        database=database,
        hasher=hasher,
        mail_seal=mail_body_sealer(secret) if _mail_configured(settings) else None,
        authenticator=TokenAuthenticator(
            database,
            hasher,
            alarm=alert_at_authentication,
            dormant_after=timedelta(days=settings.alert_dormant_days),
            policy=server_settings(lifetimes_of(settings)),
        ),
        rate_limiter=backends.rate_limiter,
        failure_throttle=backends.failure_throttle,
        passwords=PasswordChecker(
            database,
            PasswordPool(threads=settings.password_threads, queue=settings.password_queue),
            backends.failure_throttle,
        ),
        login_requests=backends.login_requests,
        wakeups=backends.wakeups,
        request_observers=(
            *((usage_flush.buffer.observe,) if usage_flush is not None else ()),
            *operations_observers(settings),
        ),
        usage=usage_flush,
    )


@contextlib.asynccontextmanager
async def lifespan(app: FastAPI) -> AsyncIterator[None]:
    """While a worker serves: its periodic jobs (``ostiary.periodic``) run in the background."""
    services: Services = app.state.services
    runner = PeriodicRunner(
        default_jobs(),
        JobContext(services.database, services.settings),
        services.settings.periodic_interval,
    )
    # Sending runs apart: a receiver (or SMTP server) slow to answer holds up only the sending,
    # never the usage flush and the sealing that monitoring rests on.
    sending = PeriodicRunner(
        delivery_jobs(services),
        JobContext(services.database, services.settings),
        services.settings.usage_flush_seconds,
        # A reset or verification link is sent at once, not at the next interval.
        nudge=services.sending,
    )
    frequent = PeriodicRunner(
        frequent_jobs(services),
        JobContext(services.database, services.settings),
        services.settings.usage_flush_seconds,
    )
    # Sealing runs apart too: under a heavy load a run seals for up to RUN_SECONDS, which must
    # not hold up the usage flush, whose alerts may suspend a credential. A sealing that queued
    # a notification wakes the sending at once (after its commit), so the mail leaves within
    # one sealing interval of its event instead of up to two.
    stop_sealing = threading.Event()
    sealing = PeriodicRunner(
        sealing_jobs(services, wake_sending=services.sending.wake, stop=stop_sealing),
        JobContext(services.database, services.settings),
        services.settings.usage_flush_seconds,
    )
    tasks = [
        asyncio.create_task(runner.run_forever(), name="ostiary-periodic"),
        asyncio.create_task(frequent.run_forever(), name="ostiary-frequent"),
        asyncio.create_task(sealing.run_forever(), name="ostiary-sealing"),
        asyncio.create_task(sending.run_forever(), name="ostiary-sending"),
    ]
    # SQLite's checkpoints on a thread, not in a group commit on the loop (ostiary.wal_checkpoints).
    services.database.checkpoint_in_background()
    try:
        await services.wakeups.start()
        try:
            yield
        finally:
            await services.wakeups.close()
            stop_sealing.set()  # a run under way ends after its batch (its thread is not cancelled)
            for task in tasks:
                task.cancel()
            for task in tasks:
                with contextlib.suppress(asyncio.CancelledError):
                    await task
            # A graceful stop loses nothing counted: the flush and the sealing run once more
            # (the sealing briefly: what it leaves, the next server seals). The sending need
            # not: what is queued stays queued, for the next worker to send.
            await asyncio.to_thread(frequent.run_once)
            stopping = sealing_jobs(services, run_seconds=STOP_SEALING_SECONDS)
            await asyncio.to_thread(
                PeriodicRunner(
                    stopping, JobContext(services.database, services.settings), 0
                ).run_once
            )
    finally:
        await asyncio.to_thread(services.database.checkpoint_in_commits)


def frequent_jobs(services: Services) -> tuple[Job, ...]:
    """The jobs run every ``OSTIARY_USAGE_FLUSH_SECONDS`` (and once more at a graceful stop):
    flushing the usage counters, which raises alerts."""
    usage = services.usage
    if usage is None:
        return ()
    return (Job("usage flush", lambda context: usage(context.database)),)


# How long the sealing at a graceful stop may run: a stop is not held up by a backlog, which
# the next server to start seals (within GRACE).
STOP_SEALING_SECONDS = 5.0


def sealing_jobs(
    services: Services,
    *,
    wake_sending: Callable[[], None] | None = None,
    run_seconds: float = RUN_SECONDS,
    stop: threading.Event | None = None,
) -> tuple[Job, ...]:
    """Sealing the activity log's new events into its hash chain (which queues their
    deliveries, alert mail and notifications), run every ``OSTIARY_USAGE_FLUSH_SECONDS`` in a
    runner of its own (``lifespan``), each run for up to ``run_seconds`` and until ``stop`` is
    set. A sealing that queued a notification calls ``wake_sending`` once it has committed."""
    key = chain_key(load_or_create_secret(services.settings))
    # The account notifications (docs/notifications.md) are told of each batch after the
    # webhooks and the alert mail, in the same sealing transaction.
    queued = threading.Event()
    notifier = notifications_enqueuer(services.settings, on_queued=queued.set)
    subscribers = (
        *sealed_event_subscribers(services.settings),
        *((notifier,) if notifier is not None else ()),
    )

    def seal(context: JobContext) -> int:
        sealed = seal_events(context.database, key, subscribers, run_seconds=run_seconds, stop=stop)
        if queued.is_set():
            queued.clear()
            if wake_sending is not None:
                wake_sending()
        return sealed

    return (Job("seal events", seal),)


def delivery_jobs(services: Services) -> tuple[Job, ...]:
    """The sending jobs, run every ``OSTIARY_USAGE_FLUSH_SECONDS`` in a runner of their own
    (``lifespan``): the webhook deliveries, then the mail outbox when SMTP is configured."""
    jobs = [
        Job(
            "webhook deliveries",
            lambda context: send_deliveries(context.database, context.settings),
        )
    ]
    try:
        mailer = mailer_from(services.settings)
    except MailError as error:
        logger.warning("no mail is sent: %s (see `ostiary check`)", error)
        mailer = None
    if mailer is not None:
        sender = mailer
        seal = body_seal(services.settings)
        jobs.append(Job("mail outbox", lambda context: send_mail(context.database, sender, seal)))
    return tuple(jobs)


def create_app(settings: Settings, services: Services | None = None) -> FastAPI:
    """Assemble the Ostiary application."""
    app = FastAPI(
        title="Ostiary",
        version=__version__,
        description="A Heroku Platform API v3 compatible identity service.",
        docs_url=None,
        redoc_url=None,
        # No OpenTelemetry here: it would also record exception messages we keep to our own log.
        telemetry={"tracing": False, "metrics": False, "logs": False},
        lifespan=lifespan,
    )
    app.state.services = services or build_services(settings)

    # Routes are matched in order, a few microseconds each: the busiest go first. After
    # /account come the five OAuth endpoints (token issuance and introspection), then the rest.
    app.include_router(health.router)
    app.include_router(metrics.router)
    app.include_router(account.router)
    oauth.install(app)
    for module in API_ROUTERS:
        app.include_router(module.router)

    app.include_router(login.router)
    app.include_router(passkeys.router)
    app.include_router(recovery.router)
    app.include_router(authorize.router)
    app.include_router(device.router)
    app.include_router(heroku_login.router)
    app.include_router(leaks.router)
    for router in dashboard.ROUTERS:
        app.include_router(router)
    app.mount("/static", StaticFiles(directory=STATIC_DIR), name="static")
    install_error_handlers(app)
    app.add_middleware(
        ConventionsMiddleware,
        hsts_max_age=settings.hsts_max_age,
        max_body_size=settings.max_body_size,
        hosts=HostPolicy(settings.allowed_hosts, settings.issuer),
        observers=app.state.services.request_observers,
        hot_routes=hot_routes(app, (account.router, oauth.router)),
    )
    app.add_middleware(
        ProxyHeadersMiddleware,
        trusted_hosts=[str(network) for network in settings.trusted_proxies],
    )
    return app
