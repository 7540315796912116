"""What a request carries besides its body: the app's services, the request's context, and the
:class:`~ostiary.unit.Unit` every service of the request takes (built here, for every surface of
the web application)."""

from __future__ import annotations

from dataclasses import dataclass, field
from datetime import timedelta

from sqlalchemy.orm import Session
from starlette.requests import HTTPConnection

from ostiary.accounts.passwords import PasswordChecker
from ostiary.config import Settings
from ostiary.db import Database
from ostiary.events import RequestContext
from ostiary.oauth_clients.oauth_storage import ClientMemory
from ostiary.periodic import Nudge
from ostiary.ratelimit import RateLimiter
from ostiary.recovery.records import Mailroom
from ostiary.security.address_limit import AddressLimiter
from ostiary.security.hashing import SecretHasher
from ostiary.security.sealing import Sealer
from ostiary.security.throttle import FailureThrottle
from ostiary.tokens.authenticator import TokenAuthenticator
from ostiary.unit import Unit, lifetimes_of
from ostiary.usage.flush import UsageFlush
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
    # Writes the usage the request observers counted (a frequent job); None when not recorded.
    usage: UsageFlush | None = None
    # Wakes the sending jobs of this worker (mail with a link goes out in seconds).
    sending: Nudge = field(default_factory=Nudge)
    # The clients this worker read for the client credentials grant, for a few seconds.
    client_memory: ClientMemory = field(default_factory=ClientMemory)
    # Seals the bodies of mail that carries a link; None when no mail is sent (no usable
    # OSTIARY_SMTP_URL): the pages then say so, and nothing is queued.
    mail_seal: Sealer | None = None


def services_of(connection: HTTPConnection) -> Services:
    """The services of the application handling this request."""
    services: Services = connection.app.state.services
    return services


def request_context(connection: HTTPConnection) -> RequestContext:
    """The request's peer address, user agent and request id, for events; and its credential
    once the request is authenticated (``web.api.deps.authenticate_caller`` leaves it in the
    request's state: the authorization id, the token redacted, the OAuth client)."""
    client = connection.client
    state = connection.scope.get("state", {})
    return RequestContext(
        ip=client.host if client else None,
        user_agent=connection.headers.get("user-agent"),
        request_id=state.get("request_id"),
        authorization_id=state.get("authorization_id"),
        token=state.get("redacted_token"),
        client_id=state.get("client_id"),
    )


def mailroom_of(connection: HTTPConnection) -> Mailroom:
    """How this request's account mail leaves: links to the issuer (``OSTIARY_ISSUER``) or the
    address the request reached (a Host the host policy believed), sealed when mail is on."""
    services = services_of(connection)
    settings = services.settings
    base = settings.issuer or str(connection.base_url)
    return Mailroom(
        base_url=base,
        seal=services.mail_seal,
        notice_window=timedelta(seconds=settings.webhook_retry_seconds),
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
