"""Which Host headers are believed (as Django's ``ALLOWED_HOSTS``).

Without ``OSTIARY_ISSUER`` the issuer, the RFC 8414 metadata and a device flow's
``verification_uri`` are built from the URL a request reached, so a Host header a client made up
would put the attacker's host name into them. The conventions middleware refuses such a request
with 400 before routing. Believed are:

- the names listed in ``OSTIARY_ALLOWED_HOSTS`` (``.example.com`` also matches its subdomains,
  ``*`` any name);
- the host of ``OSTIARY_ISSUER``;
- loopback names: ``localhost``, ``*.localhost`` (RFC 6761 section 6.3), 127.0.0.0/8 and ``::1``.

``X-Forwarded-Host`` is never read. A request without a Host header (HTTP/1.0) is judged by the
address it reached, which is what the URL would be built from.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from urllib.parse import urlsplit

from ostiary.net import is_loopback

# A DNS name or IPv4 address, or a bracketed IPv6 address, then an optional port (RFC 9110
# section 7.2, RFC 3986 section 3.2.2). Anything else (userinfo, spaces, a second colon) is
# refused outright rather than interpreted.
_HOST = re.compile(
    r"^(?P<name>[a-z0-9_](?:[a-z0-9_.-]{0,252}[a-z0-9_])?\.?|\[[0-9a-f:.]{2,45}\])"
    r"(?::[0-9]{1,5})?$"
)
_MAX_CACHED = 256


def host_name(host: str) -> str | None:
    """The lower-cased name of a Host header value without port, brackets or a final dot, or
    None when the value is not a well-formed host."""
    match = _HOST.match(host.lower())
    if match is None:
        return None
    return match.group("name").rstrip(".").strip("[]")


def is_loopback_name(name: str) -> bool:
    """Whether a host name (as :func:`host_name` returns it) can only mean this machine."""
    return is_loopback(name) or name.endswith(".localhost")


class HostPolicy:
    """Decides whether a Host header is one of this server's names."""

    def __init__(self, allowed: Iterable[str], issuer: str | None = None) -> None:
        names = {entry.strip().lower().rstrip(".") for entry in allowed if entry.strip()}
        self.any_host = "*" in names
        self._suffixes = tuple(name for name in names if name.startswith("."))
        self._names = {name.strip("[]") for name in names if not name.startswith(".")}
        if issuer:
            issuer_host = urlsplit(issuer).hostname
            if issuer_host:
                self._names.add(issuer_host.lower().rstrip("."))
        # Verdicts for header values already seen believed: a few names in practice. Refused
        # values are not cached, so nobody can fill this up.
        self._believed: set[str] = set()

    def believes(self, host: str) -> bool:
        """Whether ``host`` (a Host header value, port included) names this server."""
        if host in self._believed:
            return True
        name = host_name(host)
        if name is None:
            return False
        believed = (
            self.any_host
            or name in self._names
            or is_loopback_name(name)
            or any(name.endswith(suffix) or name == suffix[1:] for suffix in self._suffixes)
        )
        if believed and len(self._believed) < _MAX_CACHED:
            self._believed.add(host)
        return believed
