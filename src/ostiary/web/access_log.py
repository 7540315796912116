"""The access log: one JSON line per finished request, for operators.

Each line holds ``time`` (RFC 3339, UTC, milliseconds), ``request_id``, ``method``, ``route``
(the matched route's template, ``null`` when none matched), ``status``, ``duration_ms``,
``account_id``, ``authorization_id``, ``address`` (the client's, after trusted proxies) and
``user_agent``. It never holds a path, so neither ids nor a query string (where a token sent
by mistake would be), nor a header but the user agent; a token-shaped string in the user agent
is redacted too.

``OSTIARY_ACCESS_LOG`` says where: ``-`` (stderr, the default), a file path (appended to,
created 0600: the lines name accounts and addresses), or ``off``.

It is a request observer, run on the event loop: one ``json.dumps`` and one ``write`` of a
line-buffered stream, no logging handler, lock or thread. Several workers appending to one file
each write whole lines with one ``write`` call on an ``O_APPEND`` descriptor, so their lines do
not interleave. A stderr that nobody reads (a full pipe) would stall the worker, as any log
would: point it at a file or a reader.
"""

from __future__ import annotations

import functools
import json
import os
import re
import sys
import time
from collections.abc import Callable
from pathlib import Path
from typing import TextIO

from ostiary.web.observed import ObservedRequest

OFF = "off"
STDERR = "-"
_MAX_USER_AGENT = 512
# Ostiary's token prefixes (security.tokens.TokenKind) followed by a token's body.
_TOKEN_SHAPE = re.compile(r"ost[kaorcg]_[0-9A-Za-z]{8,}")


@functools.lru_cache(maxsize=2)
def _second(seconds: int) -> str:
    """A second since the epoch as RFC 3339 writes it, UTC, to the second: formatted again only
    when the second changes (every request writes a line, and strftime was a fiftieth of a
    request's time)."""
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(seconds))


def _rfc3339(at: float) -> str:
    seconds = int(at)
    millis = int((at - seconds) * 1000)
    return f"{_second(seconds)}.{millis:03d}Z"


# One encoder for every line: json.dumps with arguments builds a new one per call.
_LINE = json.JSONEncoder(separators=(",", ":"))


def _user_agent(value: str | None) -> str | None:
    if value is None:
        return None
    value = value[:_MAX_USER_AGENT]
    if "ost" in value:  # the cheap test first: almost no user agent holds it
        value = _TOKEN_SHAPE.sub("[redacted]", value)
    return value


def access_line(observed: ObservedRequest) -> str:
    """The access log's line for one finished request, newline included."""
    return (
        _LINE.encode(
            {
                "time": _rfc3339(observed.at),
                "request_id": observed.request_id,
                "method": observed.method,
                "route": observed.route,
                "status": observed.status,
                "duration_ms": round(observed.duration * 1000, 3),
                "account_id": observed.account_id,
                "authorization_id": observed.authorization_id,
                "address": observed.ip,
                "user_agent": _user_agent(observed.user_agent),
            }
        )
        + "\n"
    )


class AccessLog:
    """A request observer (``Services.request_observers``) writing :func:`access_line`s."""

    __slots__ = ("_stream", "_write")

    def __init__(self, write: Callable[[str], object], stream: TextIO | None = None) -> None:
        self._write = write
        self._stream = stream  # the file it owns, if any

    def __call__(self, observed: ObservedRequest) -> None:
        """Write the request's line."""
        self._write(access_line(observed))

    def close(self) -> None:
        """Close the file it writes to (nothing for stderr); a worker's lasts as long as it."""
        if self._stream is not None:
            self._stream.close()


def _to_stderr(line: str) -> None:
    # sys.stderr looked up at each write: a test runner (or a daemoniser) may replace it.
    sys.stderr.write(line)


def open_access_log(destination: str) -> AccessLog | None:
    """The access log ``OSTIARY_ACCESS_LOG`` asks for, or None when it is ``off``."""
    if destination.strip().lower() == OFF:
        return None
    if destination == STDERR:
        return AccessLog(_to_stderr)
    path = Path(destination).expanduser()
    descriptor = os.open(path, os.O_WRONLY | os.O_APPEND | os.O_CREAT, 0o600)
    # Line-buffered: each line leaves in one write(2), whole, on the O_APPEND descriptor.
    stream = open(descriptor, "a", buffering=1, encoding="utf-8")  # noqa: SIM115 (kept open)
    return AccessLog(stream.write, stream)
