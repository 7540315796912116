"""Whether a host names this machine: the one test behind HTTPS-only (plain HTTP is served to
loopback peers only), ``serve --insecure-http``, the loopback exception for redirect URIs
(RFC 8252 section 7.3), the client library's refusal of plain HTTP, and ``ostiary check``."""

from __future__ import annotations

import functools
import ipaddress


@functools.lru_cache(maxsize=4096)
def is_loopback(host: str | None) -> bool:
    """``localhost`` or a loopback address (IPv6 with or without brackets)."""
    if not host:
        return False
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False
