"""What usage reads hand back: hourly buckets, the sources of a credential, and the busiest
credentials of an account."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime


@dataclass(frozen=True, slots=True)
class HourBucket:
    """Requests in one hour to one route group, answered with one status class."""

    hour: datetime
    route_group: str
    status_class: str
    count: int


@dataclass(frozen=True, slots=True)
class Source:
    """An address (``kind`` ``address``) or user agent (``agent``) a credential was used from."""

    kind: str
    value: str
    first_seen: datetime
    last_seen: datetime
    count: int


@dataclass(frozen=True, slots=True)
class CredentialUsage:
    """One credential's (or one application's credentials') usage over a window."""

    since: datetime
    until: datetime
    hours: list[HourBucket]
    addresses: list[Source]
    agents: list[Source]

    @property
    def total(self) -> int:
        """Requests in the window."""
        return sum(bucket.count for bucket in self.hours)

    def status_mix(self) -> dict[str, int]:
        """Requests per status class, in class order."""
        mix: dict[str, int] = {}
        for bucket in sorted(self.hours, key=lambda b: b.status_class):
            mix[bucket.status_class] = mix.get(bucket.status_class, 0) + bucket.count
        return mix

    def per_hour(self) -> dict[datetime, int]:
        """Requests per hour, for the hours with any."""
        totals: dict[datetime, int] = {}
        for bucket in self.hours:
            totals[bucket.hour] = totals.get(bucket.hour, 0) + bucket.count
        return totals


@dataclass(frozen=True, slots=True)
class BusyCredential:
    """A credential of an account and its requests over a window."""

    authorization_id: str
    kind: str
    description: str
    client_id: str | None
    client_name: str | None
    requests: int
