"""Checking the server's URL before any token is sent to it."""

from __future__ import annotations

import ssl
from urllib.parse import quote

import httpx

from ostiary.client.errors import InsecureURL
from ostiary.net import is_loopback


def is_loopback_host(host: str) -> bool:
    """Whether ``host`` names this machine; ``*.localhost`` too (RFC 6761 section 6.3 keeps
    those names on the loopback interface)."""
    return is_loopback(host) or host.endswith(".localhost")


def checked_base_url(url: str) -> str:
    """``url`` without a trailing slash; an ``http://`` URL only for this machine (tokens must not
    cross a network in clear text)."""
    parsed = httpx.URL(url)
    if parsed.scheme not in ("https", "http") or not parsed.host:
        raise InsecureURL(f"{url!r} is not an http(s) URL.")
    if parsed.scheme == "http" and not is_loopback_host(parsed.host):
        raise InsecureURL(
            f"Refusing {url}: plain HTTP is allowed only to this machine. Use https://."
        )
    return url.rstrip("/")


def api_path(*segments: str) -> str:
    """An API path from segments, each percent-encoded (an email or name may hold anything)."""
    return "/" + "/".join(quote(segment, safe="@~") for segment in segments)


def tls_verification(verify: bool | str) -> bool | ssl.SSLContext:
    """httpx's ``verify`` from True, False, or the path of a CA bundle to trust (for a server
    with a private or self-signed certificate)."""
    if isinstance(verify, str):
        return ssl.create_default_context(cafile=verify)
    return verify
