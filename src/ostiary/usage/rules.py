"""The anomaly rules over usage, as pure functions of plain data (the flush fetches the
history, ``usage.services``), and how long usage is kept.

- **spike**: an hour's requests over ``factor`` times the credential's trailing 7-day hourly
  median (hours without a request count as 0) and over ``floor``.
- **new network**: an address outside every /24 (IPv4) or /48 (IPv6) the credential was used
  from in the last 30 days. A credential's very first use is no new network.
- **new user-agent family**: a family (``ostiary.agents``) the credential never used before; its
  first use is not new.
- **probing**: at least ``threshold`` 401 or 403 answers to one credential within five minutes.

Each rule fires when its condition becomes true in a flush (the count crosses the line), so a
finding is handed on once, not at every flush while it stays true.
"""

from __future__ import annotations

import ipaddress
import statistics
from collections.abc import Collection, Iterable, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

from ostiary.config import Settings
from ostiary.usage.errors import InvalidUsageWindow

RETENTION = timedelta(days=90)
SPIKE_HISTORY = timedelta(days=7)
NETWORK_MEMORY = timedelta(days=30)
PROBING_WINDOW = timedelta(minutes=5)
IPV4_PREFIX = 24
IPV6_PREFIX = 48
HOURS_OF_HISTORY = int(SPIKE_HISTORY / timedelta(hours=1))

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@dataclass(frozen=True, slots=True)
class Thresholds:
    """The rules' configurable thresholds (``OSTIARY_ALERT_*``)."""

    spike_factor: float = 10.0
    spike_floor: int = 100
    probing_threshold: int = 20

    @classmethod
    def of(cls, settings: Settings) -> Thresholds:
        """The thresholds an operator configured."""
        return cls(
            spike_factor=settings.alert_spike_factor,
            spike_floor=settings.alert_spike_floor,
            probing_threshold=settings.alert_probing_threshold,
        )


def hourly_median(history: Sequence[int]) -> float:
    """The median of the trailing hours' counts; ``history`` lists the hours with requests, the
    other hours of the window count as 0."""
    padded = list(history) + [0] * max(0, HOURS_OF_HISTORY - len(history))
    return float(statistics.median(padded)) if padded else 0.0


def is_spike(count: int, median: float, thresholds: Thresholds) -> bool:
    """Whether an hour's ``count`` is a spike against the trailing ``median``."""
    return count > thresholds.spike_factor * median and count > thresholds.spike_floor


def spike_begins(before: int, after: int, median: float, thresholds: Thresholds) -> bool:
    """Whether the hour became a spike with this flush (``before`` its count, ``after`` it)."""
    return is_spike(after, median, thresholds) and not is_spike(before, median, thresholds)


def network_of(address: str) -> Network | None:
    """The /24 or /48 an address belongs to; None for what is no IP address."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return None
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    prefix = IPV4_PREFIX if ip.version == 4 else IPV6_PREFIX
    return ipaddress.ip_network(f"{ip}/{prefix}", strict=False)


def new_networks(
    addresses: Iterable[str], recent: Iterable[str], *, used_before: bool
) -> list[tuple[str, Network]]:
    """The addresses (with their network) outside every network of the ``recent`` addresses,
    one per network; none when the credential was never ``used_before`` (its first use)."""
    if not used_before:
        return []
    known = {network for network in map(network_of, recent) if network is not None}
    found = []
    for address in addresses:
        network = network_of(address)
        if network is not None and network not in known:
            known.add(network)
            found.append((address, network))
    return found


def new_families(families: Iterable[str], known: Collection[str]) -> list[str]:
    """The families not among the ``known`` ones, once each; none when nothing is known (the
    credential's first use)."""
    if not known:
        return []
    seen = set(known)
    found = []
    for family in families:
        if family not in seen:
            seen.add(family)
            found.append(family)
    return found


def is_probing(refusals: int, threshold: int) -> bool:
    """Whether this many refusals within the window is probing."""
    return refusals >= threshold


def probing_begins(before: int, after: int, threshold: int) -> bool:
    """Whether the window's refusals reached the threshold with this flush."""
    return is_probing(after, threshold) and not is_probing(before, threshold)


MAX_WINDOW = RETENTION + timedelta(hours=1)
DEFAULT_WINDOW = timedelta(days=7)


def _instant(field: str, value: str) -> datetime:
    try:
        parsed = datetime.fromisoformat(value.strip())
    except ValueError:
        raise InvalidUsageWindow(field, f"{field} must be an ISO 8601 time.") from None
    return parsed if parsed.tzinfo is not None else parsed.replace(tzinfo=UTC)


def _hour_of(moment: datetime) -> datetime:
    return moment.astimezone(UTC).replace(minute=0, second=0, microsecond=0)


def usage_window(since: str | None, until: str | None, now: datetime) -> tuple[datetime, datetime]:
    """The hours a usage read covers, from ``since`` (its hour) to ``until`` (exclusive): the
    last 7 days up to the current hour by default, at most 90 days."""
    end = _instant("until", until) if until else _hour_of(now) + timedelta(hours=1)
    start = _hour_of(_instant("since", since)) if since else _hour_of(end) - DEFAULT_WINDOW
    if start >= end:
        raise InvalidUsageWindow("since", "since must be before until.")
    if end - start > MAX_WINDOW:
        raise InvalidUsageWindow("since", "Usage is kept for 90 days: ask for at most that.")
    return start, end
