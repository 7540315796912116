"""Redirect URI rules for registration (RFC 9700 section 2.1; OAuth 2.1 section 2.3.1).

A redirect URI is absolute, has no fragment, no userinfo (``https://good.example@evil.example/``
reads as the first host to a person and goes to the second), no whitespace, control character
or backslash (which browsers and parsers split differently), a port, when it has one, of 1 to
65535, and uses https, or http only on a loopback host (a native app's local listener).
Matching at the authorization endpoint is by exact string, with one exception, a loopback URI's
port (RFC 8252 section 7.3): only the port may vary, and only to a number from 1 to 65535; the
requested URI is parsed as strictly as a registered one (rules R1 and R4 of
docs/oauth-server-rules.md).
"""

from __future__ import annotations

import re
from urllib.parse import SplitResult, urlsplit

from ostiary.errors import InvalidParams
from ostiary.net import is_loopback

MAX_REDIRECT_URIS = 10
_UNSAFE = re.compile(r"[\s\\\x00-\x1f\x7f]")
# host[:port] with nothing else: no userinfo, a port of digits only (range checked below).
_NETLOC = re.compile(r"^(?P<host>\[[0-9A-Fa-f:.]+\]|[^\[\]@:/?#]+)(?::(?P<port>[0-9]{1,5}))?$")
# The loopback IP literals whose port may vary (RFC 8252 sections 7.3 and 8.3: not localhost).
_PORT_FREE_HOSTS = ("127.0.0.1", "[::1]")


def _strict_parts(uri: str) -> tuple[SplitResult, str, int | None] | None:
    """``uri`` split, with its host and port, or None when it has userinfo, unsafe characters,
    or a port that is not a number from 1 to 65535."""
    if _UNSAFE.search(uri):
        return None
    parts = urlsplit(uri)
    netloc = _NETLOC.match(parts.netloc)
    if netloc is None:
        return None
    port = netloc.group("port")
    if port is not None and not 1 <= int(port) <= 65535:
        return None
    return parts, netloc.group("host").lower(), int(port) if port is not None else None


def validate_redirect_uri(uri: str, field: str = "redirect_uri") -> str:
    """A registrable redirect URI, or InvalidParams saying why not."""
    if not isinstance(uri, str) or len(uri) > 2000:
        raise InvalidParams(field, f"{field} must be a URL of at most 2000 characters.")
    parts = urlsplit(uri)
    if parts.fragment or "#" in uri:
        raise InvalidParams(field, f"{field} {uri!r} must not contain a fragment.")
    if not parts.netloc or not parts.hostname:
        raise InvalidParams(field, f"{field} {uri!r} must be an absolute URL with a host.")
    if _strict_parts(uri) is None:
        raise InvalidParams(
            field,
            f"{field} {uri!r} must have no user name or password, no spaces, control characters "
            "or backslashes, and a port (if any) from 1 to 65535.",
        )
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
    strict = _strict_parts(uri)
    if strict is None:
        return None
    parts, host, _ = strict
    if parts.scheme != "http" or host not in _PORT_FREE_HOSTS or parts.fragment:
        return None
    return parts.scheme, host, parts.path, parts.query


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
