"""The rules of webhooks, decided without storage: what a webhook may point at and subscribe
to, which events reach it, what of an event a payload may carry, and when to try again."""

from __future__ import annotations

import ipaddress
import random
import re
import socket
from collections.abc import Mapping, Sequence
from datetime import timedelta
from urllib.parse import urlsplit

from ostiary.net import is_loopback
from ostiary.security.tokens import token_kind
from ostiary.webhooks.errors import InvalidWebhook
from ostiary.webhooks.records import INCLUDES, LEVELS, Include

URL_MAX = 2000
SECRET_MAX = 256
# The first retry comes after about this long, each later one after twice the one before, up
# to the cap; each delay is drawn between half and all of it, so deliveries failed together
# (a receiver's outage) do not all come back in the same second.
FIRST_RETRY = timedelta(seconds=30)
LONGEST_RETRY = timedelta(hours=1)
# Detail keys whose values are never delivered: a secret must not leave in a payload even if
# a caller put one in an event by mistake ("token_id" and the like are ids, and stay).
_SECRET_KEY = re.compile(
    r"(^|_)(secret|password|passphrase|token|credential)s?$|^(code|codes|otp|recovery_codes?)$",
    re.IGNORECASE,
)
_CONTROL = re.compile(r"[\x00-\x20\x7f]")


def is_forbidden_address(address: ipaddress.IPv4Address | ipaddress.IPv6Address) -> bool:
    """Whether deliveries may not go to ``address``: loopback, unspecified or link-local
    (169.254.0.0/16 holds the clouds' metadata services), also as an IPv4-mapped IPv6
    address. Private (RFC 1918) networks stay allowed: a self-hosted platform delivers to its
    own receivers (docs/webhooks.md)."""
    if isinstance(address, ipaddress.IPv6Address) and address.ipv4_mapped is not None:
        address = address.ipv4_mapped
    return address.is_loopback or address.is_unspecified or address.is_link_local


def names_this_machine(host: str) -> bool:
    """Whether a URL's host is, as written, a forbidden address (``is_forbidden_address``) or
    a ``localhost`` name (RFC 6761: ``localhost`` and every name under it)."""
    name = host.strip("[]").rstrip(".").lower()
    if name == "localhost" or name.endswith(".localhost"):
        return True
    try:
        return is_forbidden_address(ipaddress.ip_address(name.split("%")[0]))
    except ValueError:
        pass
    # The resolver also reads IPv4 in the old short forms ("127.1", "0x7f000001", "2130706433").
    if re.fullmatch(r"[0-9a-fx.]+", name):
        try:
            return is_forbidden_address(ipaddress.IPv4Address(socket.inet_aton(name)))
        except OSError:
            return False
    return False


def checked_url(url: object, *, allow_loopback: bool = False) -> str:
    """A receiver URL: absolute https, no credentials, no spaces or control characters, and
    not to this machine. With ``allow_loopback`` (``OSTIARY_WEBHOOK_ALLOW_LOOPBACK``, for
    tests), loopback hosts are allowed, and plain http to them."""
    if not isinstance(url, str) or not url:
        raise InvalidWebhook("url", "url is required.")
    if len(url) > URL_MAX:
        raise InvalidWebhook("url", f"url is longer than {URL_MAX} characters.")
    if _CONTROL.search(url) or "\\" in url:
        raise InvalidWebhook("url", "url holds spaces, backslashes or control characters.")
    try:
        parts = urlsplit(url)
        parts.port  # noqa: B018 - raises on a port that is not a number
    except ValueError:
        raise InvalidWebhook("url", "url is not a valid URL.") from None
    if parts.username is not None or parts.password is not None or "@" in parts.netloc:
        raise InvalidWebhook("url", "url must not carry credentials; use `authorization`.")
    if not parts.hostname:
        raise InvalidWebhook("url", "url must be absolute, with a host.")
    if not allow_loopback and names_this_machine(parts.hostname):
        raise InvalidWebhook(
            "url", "url must not point at a loopback, unspecified or link-local address."
        )
    if parts.scheme == "https":
        return url
    if parts.scheme == "http" and allow_loopback and is_loopback(parts.hostname):
        return url
    raise InvalidWebhook("url", "url must use https.")


def checked_include(include: object) -> list[str]:
    """The event types subscribed to: a non-empty list of ``alert`` and ``event``."""
    if not isinstance(include, list) or not include:
        raise InvalidWebhook("include", f"include must list one or more of: {', '.join(INCLUDES)}.")
    chosen: list[str] = []
    for item in include:
        if item not in INCLUDES:
            raise InvalidWebhook(
                "include", f"include may hold only {', '.join(INCLUDES)}, not {str(item)[:40]!r}."
            )
        if item not in chosen:
            chosen.append(item)
    return chosen


def checked_level(level: object) -> str:
    """``notify`` or ``sync`` (both retried: docs/webhooks.md)."""
    if level not in LEVELS:
        raise InvalidWebhook("level", f"level must be one of: {', '.join(LEVELS)}.")
    return str(level)


def checked_secret(value: object, field: str) -> str:
    """A caller-chosen secret or Authorization value: 1 to 256 printable characters."""
    if not isinstance(value, str) or not value or len(value) > SECRET_MAX:
        raise InvalidWebhook(field, f"{field} must be 1 to {SECRET_MAX} characters.")
    if re.search(r"[\x00-\x1f\x7f]", value):
        raise InvalidWebhook(field, f"{field} must not hold control characters.")
    return value


def include_for(action: str, includes: Sequence[str]) -> Include | None:
    """Which of a webhook's types an event is delivered as, if any: an ``alert:*`` event as
    ``alert`` when subscribed, any event as ``event`` when subscribed to every event."""
    if action.startswith("alert:") and "alert" in includes:
        return "alert"
    if "event" in includes:
        return "event"
    return None


def redacted(details: Mapping[str, object]) -> dict[str, object]:
    """An event's details fit for a payload or a mail: without secret-named keys, and with no
    value that has the shape of an Ostiary token (recursively)."""
    kept: dict[str, object] = {}
    for key, value in details.items():
        if _SECRET_KEY.search(str(key)):
            continue
        kept[str(key)] = _redacted_value(value)
    return kept


def _redacted_value(value: object) -> object:
    if isinstance(value, str):
        return "[redacted]" if token_kind(value) is not None else value
    if isinstance(value, Mapping):
        return redacted(value)
    if isinstance(value, list | tuple):
        return [_redacted_value(item) for item in value]
    return value


def retry_delay(attempts: int, rng: random.Random | None = None) -> timedelta:
    """How long after the ``attempts``-th failed attempt to try again: exponential, capped,
    with jitter."""
    ceiling = min(FIRST_RETRY * 2 ** min(max(attempts - 1, 0), 20), LONGEST_RETRY)
    draw: float = (rng or random).uniform(0.5, 1.0)
    return timedelta(seconds=ceiling.total_seconds() * draw)
