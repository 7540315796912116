"""Redirect URI rules for registration (RFC 9700 section 2.1; OAuth 2.1 section 2.3.1).

A redirect URI is absolute, has no fragment, and uses https, or http only on a loopback host
(a native app's local listener). Matching at the authorization endpoint is by exact string, with
one exception, a loopback URI's port (RFC 8252 section 7.3).
"""

from __future__ import annotations

import ipaddress
from urllib.parse import urlsplit

from ostiary.errors import InvalidParams

MAX_REDIRECT_URIS = 10
LOOPBACK_HOSTS = frozenset({"localhost", "127.0.0.1", "[::1]", "::1"})


def _is_loopback(host: str) -> bool:
    if host in LOOPBACK_HOSTS:
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


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
    if parts.scheme == "http" and _is_loopback(parts.hostname):
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
