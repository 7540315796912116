"""Noticing that the client's own token is about to expire, from the ``Ostiary-Token-Expires``
header every authenticated answer carries (RFC 3339 UTC; absent for a token that never
expires), as GitHub's API does with ``GitHub-Authentication-Token-Expiration``.

A library tells its user through :mod:`warnings` (a :class:`TokenExpiringWarning`, shown on
stderr by Python's default filters, which an application can turn into an error, silence or
log with ``logging.captureWarnings``), once per :class:`~ostiary.client.Client`; the ``ostiary``
CLI prints its own one-line message instead.
"""

from __future__ import annotations

import math
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

EXPIRES_HEADER = "Ostiary-Token-Expires"
WARN_WITHIN = timedelta(days=7)


class TokenExpiringWarning(UserWarning):
    """The token a client uses expires soon: replace it before it does."""


@dataclass(frozen=True, slots=True)
class ExpiringToken:
    """The client's token expires at ``expires_at``, ``left`` from when it was seen."""

    expires_at: datetime
    left: timedelta

    @property
    def message(self) -> str:
        """What to tell a person: when, and what to do."""
        days = max(0, math.ceil(self.left.total_seconds() / 86400))
        within = "today" if days == 0 else f"in {days} day{'s' if days != 1 else ''}"
        return (
            f"The Ostiary token in use expires {within}, at "
            f"{self.expires_at.strftime('%Y-%m-%d %H:%M:%S UTC')}. Create a new one "
            "(`ostiary authorizations:create`, or rotate it with `ostiary authorizations:rotate`; "
            "for the API key, regenerate it on the dashboard) and put it where this one is kept."
        )


ExpiryHandler = Callable[[ExpiringToken], None]


def parse_expiry(value: str | None) -> datetime | None:
    """The header's moment, or None when absent or not RFC 3339 (a server that does not send
    it, or sends it wrong, is never a reason to fail the request)."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value.strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)


def expiring_within(
    value: str | None, within: timedelta = WARN_WITHIN, now: datetime | None = None
) -> ExpiringToken | None:
    """The expiry a header names when it is no further than ``within`` away, else None."""
    expires_at = parse_expiry(value)
    if expires_at is None:
        return None
    left = expires_at - (now or datetime.now(UTC))
    return ExpiringToken(expires_at, left) if left <= within else None


def warn(expiring: ExpiringToken) -> None:
    """The library's default: a :class:`TokenExpiringWarning`."""
    import warnings

    warnings.warn(expiring.message, TokenExpiringWarning, stacklevel=4)
