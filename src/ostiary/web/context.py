"""What a request carries besides its body: the app's services, the request's context, and the
:class:`~ostiary.unit.Unit` every service of the request takes (built here, for every surface of
the web application)."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from ostiary.accounts.passwords import PasswordChecker
from ostiary.config import Settings
from ostiary.db import Database
from ostiary.events import RequestContext
from ostiary.ratelimit import RateLimiter
from ostiary.security.address_limit import AddressLimiter
from ostiary.security.hashing import SecretHasher
from ostiary.security.throttle import FailureThrottle
from ostiary.tokens.authenticator import TokenAuthenticator
from ostiary.unit import Unit, lifetimes_of
from ostiary.wakeups import Wakeups
from ostiary.web.observed import RequestObserver


@dataclass(frozen=True, slots=True)
class Services:
    """The long-lived collaborators of one running application."""

    settings: Settings
    database: Database
    hasher: SecretHasher
    authenticator: TokenAuthenticator
    rate_limiter: RateLimiter
    failure_throttle: FailureThrottle
    login_requests: AddressLimiter
    passwords: PasswordChecker
    wakeups: Wakeups
    # Told of every finished request (usage counters, the access log, metrics).
    request_observers: tuple[RequestObserver, ...] = ()


def services_of(connection: HTTPConnection) -> Services:
    """The services of the application handling this request."""
    services: Services = connection.app.state.services
    return services


def request_context(connection: HTTPConnection) -> RequestContext:
    """The request's peer address, user agent and request id, for events."""
    client = connection.client
    return RequestContext(
        ip=client.host if client else None,
        user_agent=connection.headers.get("user-agent"),
        request_id=connection.scope.get("state", {}).get("request_id"),
    )


def unit_of(connection: HTTPConnection, session: Session) -> Unit:
    """The unit of this request's work in its transaction ``session``."""
    services = services_of(connection)
    return Unit(
        session=session,
        hasher=services.hasher,
        context=request_context(connection),
        lifetimes=lifetimes_of(services.settings),
    )
