"""Redirect URI rules for registration (RFC 9700 section 2.1; OAuth 2.1 section 2.3.1).

A redirect URI is absolute, has no fragment, and uses https, or http only on a loopback host
(a native app's local listener). Matching at the authorization endpoint is by exact string, with
one exception, a loopback URI's port (RFC 8252 section 7.3).
"""

from __future__ import annotations

from urllib.parse import urlsplit

from ostiary.errors import InvalidParams
from ostiary.net import is_loopback

MAX_REDIRECT_URIS = 10


def validate_redirect_uri(uri: str, field: str = "redirect_uri") -> str:
    """A registrable redirect URI, or InvalidParams saying why not."""
    if not isinstance(uri, str) or len(uri) > 2000:
        raise InvalidParams(field, f"{field} must be a URL of at most 2000 characters.")
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise InvalidParams(field, f"{field} {uri!r} must not contain a fragment.")
    if not parts.netloc or not parts.hostname:
        raise InvalidParams(field, f"{field} {uri!r} must be an absolute URL with a host.")
    if parts.scheme == "https":
        return uri
    if parts.scheme == "http" and is_loopback(parts.hostname):
        return uri
    raise InvalidParams(
        field, f"{field} {uri!r} must use https (http is allowed only for loopback addresses)."
    )


def validate_redirect_uris(uris: list[str]) -> list[str]:
    """A non-empty, duplicate-free list of valid redirect URIs."""
    if not uris:
        raise InvalidParams("redirect_uri", "A client needs at least one redirect URI.")
    if len(uris) > MAX_REDIRECT_URIS:
        raise InvalidParams("redirect_uris", f"At most {MAX_REDIRECT_URIS} redirect URIs.")
    checked = [validate_redirect_uri(uri, "redirect_uris") for uri in uris]
    return list(dict.fromkeys(checked))


def _loopback_without_port(uri: str) -> tuple[str, str, str, str] | None:
    parts = urlsplit(uri)
    if parts.scheme != "http" or parts.hostname not in ("127.0.0.1", "::1"):
        return None
    return parts.scheme, parts.hostname, parts.path, parts.query


def match_redirect_uri(registered: list[str], requested: str | None) -> str | None:
    """The redirect URI to use for a request, or None when it matches none (rule R1).

    Comparison is by exact string; the only exception is the port of a loopback http URI
    (127.0.0.1 or [::1]), which a native app picks at run time (RFC 8252 section 7.3). Without a
    ``redirect_uri`` a client with exactly one registered URI uses it.
    """
    if requested is None:
        return registered[0] if len(registered) == 1 else None
    if requested in registered:
        return requested
    loose = _loopback_without_port(requested)
    if loose is not None and any(_loopback_without_port(uri) == loose for uri in registered):
        return requested
    return None
