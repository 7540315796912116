"""Usage counted in memory, per worker, between two flushes.

The request observer (:meth:`MemoryUsageBuffer.observe`) runs on the event loop for every
finished request: it does a few dictionary updates under an uncontended lock and nothing else,
no I/O and no parsing. The flush (``usage.services``, in a thread) takes everything counted so far
with :meth:`~UsageBuffer.take`, which swaps in empty dictionaries under the same lock, so a request
never waits for the database. A flush that fails hands its batch back with
:meth:`~UsageBuffer.restore`, merged into what was counted meanwhile, within a cap.

:class:`UsageBuffer` is the Protocol the flush needs: a buffer in Redis (the scale-out issue)
is a backend swap behind it.
"""

from __future__ import annotations

import functools
import logging
import threading
from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Protocol

logger = logging.getLogger("ostiary.usage")

# (authorization id, hour as epoch seconds, route group, status class)
HourKey = tuple[str, int, str, str]
# (authorization id, "address" | "agent", value)
SourceKey = tuple[str, str, str]
# (authorization id, minute as epoch seconds)
MinuteKey = tuple[str, int]

ADDRESS = "address"
AGENT = "agent"
MAX_AGENT_LENGTH = 400
# Distinct keys a buffer holds (per table). A flush every few seconds keeps far fewer; the cap
# bounds memory when the database is away for long, or a caller sends a new user agent each time.
DEFAULT_CAP = 50_000
_STATUS_CLASSES = ("1xx", "1xx", "2xx", "3xx", "4xx", "5xx")
UNAUTHENTICATED = 401
_REFUSED = frozenset({401, 403})


class Observed(Protocol):
    """What the buffer reads of a finished request (``web.middleware.ObservedRequest``)."""

    @property
    def at(self) -> float: ...
    @property
    def route(self) -> str | None: ...
    @property
    def status(self) -> int: ...
    @property
    def ip(self) -> str | None: ...
    @property
    def user_agent(self) -> str | None: ...
    @property
    def authorization_id(self) -> str | None: ...


@dataclass(slots=True)
class Seen:
    """When a source was first and last seen (epoch seconds), and how often."""

    first: float
    last: float
    count: int

    def merge(self, other: Seen) -> None:
        """Add ``other``'s sightings to these."""
        self.first = min(self.first, other.first)
        self.last = max(self.last, other.last)
        self.count += other.count


@dataclass(slots=True)
class UsageBatch:
    """What one flush writes: counts per hour, sightings per source, refusals per minute."""

    hours: dict[HourKey, int] = field(default_factory=dict)
    sources: dict[SourceKey, Seen] = field(default_factory=dict)
    refusals: dict[MinuteKey, int] = field(default_factory=dict)

    def __bool__(self) -> bool:
        return bool(self.hours or self.sources or self.refusals)

    def authorization_ids(self) -> set[str]:
        """Every credential this batch counts."""
        ids = {key[0] for key in self.hours}
        ids.update(key[0] for key in self.sources)
        ids.update(key[0] for key in self.refusals)
        return ids

    def without(self, authorization_ids: Iterable[str]) -> None:
        """Forget the counts of these credentials (deleted since they were counted)."""
        gone = set(authorization_ids)
        self.hours = {k: v for k, v in self.hours.items() if k[0] not in gone}
        self.sources = {k: v for k, v in self.sources.items() if k[0] not in gone}
        self.refusals = {k: v for k, v in self.refusals.items() if k[0] not in gone}


class UsageBuffer(Protocol):
    """Where requests are counted until a flush takes them."""

    def observe(self, request: Observed) -> None:
        """Count one finished request (on the event loop: quick, never blocking)."""

    def take(self) -> UsageBatch:
        """Everything counted since the last take; the buffer starts again empty."""

    def restore(self, batch: UsageBatch) -> None:
        """Hand back a batch a flush could not write, to be written with the next."""


@functools.lru_cache(maxsize=512)
def route_group(route: str | None) -> str:
    """The group of a route template (docs/usage.md): ``account``, ``apps``, ``config-vars``,
    ``oauth``, ``dashboard``, or ``other`` (no route matched, or none of those)."""
    if route is None:
        return "other"
    if "/config-vars" in route:
        return "config-vars"
    head = route.split("/", 2)[1] if route.startswith("/") else route
    if head == "account" or (head == "users" and not route.endswith("/apps")):
        return "account"
    if head in ("apps", "users", "addons", "addon-attachments", "actions", "pipelines"):
        return "apps"
    if head == "oauth":
        return "oauth"
    if head == "dashboard":
        return "dashboard"
    return "other"


def status_class(status: int) -> str:
    """``2xx`` for 200 to 299, and so on."""
    index = status // 100
    return _STATUS_CLASSES[index] if 0 <= index < len(_STATUS_CLASSES) else "5xx"


class MemoryUsageBuffer:
    """This worker's counts, in dictionaries swapped out whole at each flush."""

    def __init__(self, cap: int = DEFAULT_CAP) -> None:
        self.cap = cap
        self._lock = threading.Lock()
        self._batch = UsageBatch()
        self.dropped = 0  # sightings not counted because the buffer was full

    def observe(self, request: Observed) -> None:
        """Count one finished request of a credential; requests without one are not counted."""
        authorization_id = request.authorization_id
        if authorization_id is None:
            return
        at = request.at
        hour_key = (
            authorization_id,
            int(at) // 3600 * 3600,
            route_group(request.route),
            status_class(request.status),
        )
        agent = (request.user_agent or "")[:MAX_AGENT_LENGTH]
        with self._lock:
            batch = self._batch
            hours = batch.hours
            if hour_key in hours:
                hours[hour_key] += 1
            elif len(hours) < self.cap:
                hours[hour_key] = 1
            else:
                self.dropped += 1
            # Where a credential was used from is learnt only from requests it authenticated:
            # a 401 is a dead or refused token, and whoever holds one could otherwise feed the
            # credential made-up addresses and agents (a new-network or new-agent alert each).
            if request.status != UNAUTHENTICATED:
                if request.ip is not None:
                    self._see(batch, (authorization_id, ADDRESS, request.ip), at)
                self._see(batch, (authorization_id, AGENT, agent), at)
            if request.status in _REFUSED:
                minute_key = (authorization_id, int(at) // 60 * 60)
                refusals = batch.refusals
                if minute_key in refusals:
                    refusals[minute_key] += 1
                elif len(refusals) < self.cap:
                    refusals[minute_key] = 1
                else:
                    self.dropped += 1

    def _see(self, batch: UsageBatch, key: SourceKey, at: float) -> None:
        seen = batch.sources.get(key)
        if seen is not None:
            seen.last = max(seen.last, at)
            seen.count += 1
        elif len(batch.sources) < self.cap:
            batch.sources[key] = Seen(at, at, 1)
        else:
            self.dropped += 1

    def take(self) -> UsageBatch:
        """Swap in an empty batch and hand back the full one."""
        with self._lock:
            batch, self._batch = self._batch, UsageBatch()
            dropped, self.dropped = self.dropped, 0
        if dropped:
            logger.warning("usage buffer full: %d request sightings were not counted", dropped)
        return batch

    def restore(self, batch: UsageBatch) -> None:
        """Merge a batch that failed to flush into the current one. Past the cap, the oldest
        hours and sightings go first (they are the least likely to matter to a rule), logged."""
        with self._lock:
            current = self._batch
            for hour_key, count in batch.hours.items():
                current.hours[hour_key] = current.hours.get(hour_key, 0) + count
            for source_key, seen in batch.sources.items():
                mine = current.sources.get(source_key)
                if mine is None:
                    current.sources[source_key] = seen
                else:
                    mine.merge(seen)
            for minute_key, count in batch.refusals.items():
                current.refusals[minute_key] = current.refusals.get(minute_key, 0) + count
            dropped = _trim(current, self.cap)
        if dropped:
            logger.warning(
                "usage flush kept failing: dropped the %d oldest counters past the cap of %d",
                dropped,
                self.cap,
            )


def _trim(batch: UsageBatch, cap: int) -> int:
    dropped = 0
    if len(batch.hours) > cap:
        keep = sorted(batch.hours, key=lambda key: key[1], reverse=True)[:cap]
        dropped += len(batch.hours) - cap
        batch.hours = {key: batch.hours[key] for key in keep}
    if len(batch.sources) > cap:
        keep_sources = sorted(batch.sources, key=lambda key: batch.sources[key].last, reverse=True)
        dropped += len(batch.sources) - cap
        batch.sources = {key: batch.sources[key] for key in keep_sources[:cap]}
    if len(batch.refusals) > cap:
        keep_minutes = sorted(batch.refusals, key=lambda key: key[1], reverse=True)[:cap]
        dropped += len(batch.refusals) - cap
        batch.refusals = {key: batch.refusals[key] for key in keep_minutes}
    return dropped
