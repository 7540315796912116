"""Durations as settings and API fields write them: seconds (``3600``) or a number with a unit
(``30s``, ``15m``, ``12h``, ``90d``, ``2w``), so a policy reads as people say it and tests can
make it short."""

from __future__ import annotations

import re

_UNITS = {"s": 1, "m": 60, "h": 3600, "d": 86400, "w": 7 * 86400}
_DURATION = re.compile(r"(\d{1,12})\s*([smhdw]?)")


def parse_duration(value: object) -> int:
    """Seconds in ``value`` (an int, or a string such as ``"90d"``); ``ValueError`` naming the
    accepted forms when it is neither."""
    if isinstance(value, int) and not isinstance(value, bool):
        if value < 0:
            raise ValueError("a duration cannot be negative")
        return value
    if isinstance(value, float) and value.is_integer() and value >= 0:
        return int(value)
    if isinstance(value, str):
        found = _DURATION.fullmatch(value.strip().lower())
        if found:
            return int(found.group(1)) * _UNITS[found.group(2) or "s"]
    raise ValueError(
        "a duration is a whole number of seconds or a number with a unit: s, m, h, d or w "
        "(30s, 15m, 12h, 90d, 2w)"
    )


def describe_duration(seconds: int) -> str:
    """A duration as a person reads it, in its largest whole unit (``90 days``, ``36 hours``)."""
    for unit, size in (("week", 7 * 86400), ("day", 86400), ("hour", 3600), ("minute", 60)):
        if seconds >= size and seconds % size == 0:
            count = seconds // size
            return f"{count} {unit}{'s' if count != 1 else ''}"
    return f"{seconds} second{'s' if seconds != 1 else ''}"
