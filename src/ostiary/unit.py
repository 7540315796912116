"""The unit of one request's work, passed once to every service (as warehouse's request carries
its services): the transaction, the server's secret hasher, who asked, the clock, and the token
lifetimes the server is configured with.

Services take a :class:`Unit` and never commit: the unit's session belongs to the request, which
commits once when the work succeeded (``db.Database.unit_of_work``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass
from datetime import datetime

from sqlalchemy.orm import Session

from ostiary.clock import utcnow
from ostiary.config import Settings
from ostiary.events import RequestContext, record_event
from ostiary.security.hashing import SecretHasher


@dataclass(frozen=True, slots=True)
class TokenLifetimes:
    """How long new secrets live, in seconds (``OSTIARY_OAUTH_ACCESS_TOKEN_TTL``,
    ``OSTIARY_GRANT_CODE_TTL``)."""

    oauth_access: int = 28800
    grant_code: int = 300
    # The server-wide token policy (``OSTIARY_TOKEN_*``, ``OSTIARY_API_KEY_MAX_AGE``), which
    # ``ostiary.policies`` makes stricter per account; durations in seconds, None: no limit.
    max_lifetime: int | None = None
    allow_non_expiring: bool = True
    non_expiring_scopes: tuple[str, ...] | None = None
    api_key_max_age: int | None = None
    idle_revoke_after: int | None = None


@dataclass(frozen=True, slots=True)
class Unit:
    """One request's work: its transaction and everything the services it calls need."""

    session: Session
    hasher: SecretHasher
    context: RequestContext
    lifetimes: TokenLifetimes = TokenLifetimes()
    clock: Callable[[], datetime] = utcnow

    def now(self) -> datetime:
        """The current time (UTC), by this unit's clock."""
        return self.clock()

    def record(
        self,
        action: str,
        *,
        actor_id: str | None,
        target_type: str | None = None,
        target_id: str | None = None,
        details: dict[str, object] | None = None,
    ) -> None:
        """Record a security event in this unit's transaction (``events.record_event``)."""
        record_event(
            self.session,
            self.context,
            action,
            actor_id=actor_id,
            target_type=target_type,
            target_id=target_id,
            details=details,
        )


def lifetimes_of(settings: Settings) -> TokenLifetimes:
    """The token lifetimes the server is configured with."""
    scopes = settings.token_non_expiring_scopes
    return TokenLifetimes(
        oauth_access=settings.oauth_access_token_ttl,
        grant_code=settings.grant_code_ttl,
        max_lifetime=settings.token_max_lifetime,
        allow_non_expiring=settings.token_allow_non_expiring,
        non_expiring_scopes=tuple(scopes) if scopes is not None else None,
        api_key_max_age=settings.api_key_max_age,
        idle_revoke_after=settings.token_idle_revoke_after,
    )
