"""The conventions every response follows, applied once around the whole application.

In order, for each HTTP request:

1. ``Request-Id``: a new UUID first, then the UUID-shaped ids the client sent.
2. Host: a Host header that names neither a configured host nor this machine gets 400
   (``web.hosts``), before routing; ``/health`` is exempt (load balancers probe by address).
3. HTTPS only: plain HTTP from a peer that is not loopback gets 403 ``https_required``. (The
   proxy-headers middleware outside this one has already replaced scheme and peer with the
   ``X-Forwarded-*`` values, but only for configured proxies.)
4. Body size: a ``Content-Length`` above ``OSTIARY_MAX_BODY_SIZE`` gets 413 before a byte of the
   body is read; a body without one (chunked) is counted as the route reads it, and answered 413
   the moment it passes the cap. A 413 closes the connection, so the rest is never read.
5. Security headers; ``Strict-Transport-Security`` on HTTPS.
6. ``RateLimit-Remaining`` when the request was counted against an account, and
   ``Ostiary-Token-Expires`` (RFC 3339 UTC) when its credential expires (absent for one that
   never does), as GitHub's ``GitHub-Authentication-Token-Expiration``.
7. ``ETag`` on successful JSON GET responses, and 304 when ``If-None-Match`` matches.
8. An exception that escapes everything else becomes 500 ``internal_server_error``, logged here
   with its traceback and shown to the client without internals; or 503 ``service_unavailable``
   when it says the database cannot be reached.

Once the application has started (ASGI lifespan), the heap it built is frozen out of the garbage
collector's full passes (:func:`settle_heap`).

A request that carries no body (no ``Content-Length``, no ``Transfer-Encoding``), which is every
GET, pays for nothing but the one pass over the request's headers that finds what every step
needs. The response's headers are appended to the list the route gave, in one pass too: this
middleware runs on every request, and Starlette's header mappings scan the list once per look-up
(docs/architecture.md, "Hot paths after issue 13").
"""

from __future__ import annotations

import gc
import hashlib
import json
import logging
import re
import time
import uuid
from collections.abc import Mapping, Sequence

from starlette.datastructures import MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ostiary.clock import isoformat
from ostiary.errors import OstiaryError, PayloadTooLarge, UntrustedHost
from ostiary.metrics import DATABASE_ERRORS
from ostiary.net import is_loopback
from ostiary.web.errors import error_body, internal_error_body, outage_of, rendered
from ostiary.web.hosts import HostPolicy
from ostiary.web.observed import ObservedRequest, RequestObserver

logger = logging.getLogger("ostiary.server")

_UUID = re.compile(r"^[0-9a-fA-F]{8}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{4}-[0-9a-fA-F]{12}$")
_MAX_CLIENT_IDS = 10


def request_id_for(client_value: str | None) -> str:
    """A new request id followed by the well-formed ids the client sent."""
    ids = [str(uuid.uuid4())]
    if client_value:
        sent = [part.strip() for part in client_value.split(",")]
        ids.extend(part for part in sent[:_MAX_CLIENT_IDS] if _UUID.match(part))
    return ",".join(ids)


def _etag(body: bytes) -> str:
    return '"' + hashlib.blake2b(body, digest_size=16).hexdigest() + '"'


def _etag_matches(if_none_match: str, etag: str) -> bool:
    candidates = {part.strip().removeprefix("W/") for part in if_none_match.split(",")}
    return "*" in candidates or etag in candidates


class ConventionsMiddleware:
    """Pure ASGI middleware (no per-request task or body copy beyond ETag's buffering)."""

    def __init__(
        self,
        app: ASGIApp,
        *,
        hsts_max_age: int,
        max_body_size: int = 1024 * 1024,
        hosts: HostPolicy | None = None,
        observers: Sequence[RequestObserver] = (),
        hot_routes: Mapping[tuple[str, str], ASGIApp] | None = None,
    ) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age}; includeSubDomains"
        self.max_body_size = max_body_size
        self.hosts = hosts or HostPolicy(())
        self.observers = tuple(observers)
        self.hot_routes = dict(hot_routes or {})

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call; tell the observers of each finished HTTP request."""
        if scope["type"] != "http" or not self.observers:
            await self._handle(scope, receive, send)
            return
        at, started = time.time(), time.perf_counter()
        outcome: list[int] = []
        try:
            await self._handle(scope, receive, send, outcome)
        finally:
            self._observe(scope, at, time.perf_counter() - started, outcome)

    def _observe(self, scope: Scope, at: float, duration: float, outcome: list[int]) -> None:
        state = scope.get("state", {})
        client = scope.get("client")
        route = scope.get("route")
        user_agent = None
        for name, value in scope["headers"]:
            if name == b"user-agent":
                user_agent = value.decode("latin-1")
                break
        observed = ObservedRequest(
            at=at,
            method=scope["method"],
            route=getattr(route, "path", None),
            status=outcome[-1] if outcome else 500,
            duration=duration,
            ip=client[0] if client else None,
            user_agent=user_agent,
            request_id=state.get("request_id", ""),
            account_id=state.get("account_id"),
            authorization_id=state.get("authorization_id"),
        )
        for observer in self.observers:
            try:
                observer(observed)
            except Exception:
                # Monitoring must never cost a request its answer.
                logger.exception("request observer %r failed", observer)

    async def _handle(
        self, scope: Scope, receive: Receive, send: Send, outcome: list[int] | None = None
    ) -> None:
        """Handle one ASGI call; each status sent is appended to ``outcome``."""
        if scope["type"] != "http":
            if scope["type"] == "lifespan":
                send = _settling_heap_after_startup(send)
            await self.app(scope, receive, send)
            return
        headers = _RequestHeaders(scope["headers"])
        state = scope.setdefault("state", {})
        request_id = request_id_for(headers.request_id)
        state["request_id"] = request_id.split(",", 1)[0]
        https = scope.get("scheme") == "https"
        client = scope.get("client")
        response = _Response(self, scope, send, request_id, https, headers.if_none_match, outcome)

        host = headers.host
        if host is None:
            server = scope.get("server")
            host = server[0] if server else ""
        if not self.hosts.believes(host) and scope["path"] != "/health":
            await response.refuse(UntrustedHost(host))
            return
        if not https and not is_loopback(client[0] if client else None):
            await response.send_json(
                403,
                json.dumps(
                    error_body("https_required", "This API is only available over HTTPS.")
                ).encode(),
            )
            return
        limited = self._limited(headers, receive, response)
        if limited is None:
            await response.refuse(PayloadTooLarge(self.max_body_size), close=True)
            return
        # The busiest routes skip FastAPI's per-request machinery (web.hot_routes).
        target = self.hot_routes.get((scope["method"], scope["path"]), self.app)
        try:
            await target(scope, limited, response.send)
        except Exception as error:
            if response.refused:
                return  # the route stopped reading an oversize body; its 413 is sent
            outage = outage_of(error)
            if outage is not None and not response.started:
                DATABASE_ERRORS.labels(kind="unavailable").inc()
                logger.warning(
                    "database unavailable in %s %s: %s",
                    scope["method"],
                    scope["path"],
                    type(error).__name__,
                )
                await response.refuse(outage)
                return
            logger.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if response.started:
                raise
            await response.send_json(500, internal_error_body())

    def _limited(
        self, headers: _RequestHeaders, receive: Receive, response: _Response
    ) -> Receive | None:
        """``receive`` as the route may use it, or None when the declared length is too big."""
        length = headers.content_length
        if not headers.chunked:
            if length is None:
                return receive  # no body at all
            if length.isascii() and length.isdigit():
                # The HTTP parser never passes on more than the declared length.
                return receive if int(length) <= self.max_body_size else None
        return _CountedBody(receive, self.max_body_size, response).receive


def settle_heap() -> None:
    """Collect the garbage of starting up, then leave every object alive now (modules, routes,
    schemas, compiled statements: most of a worker's heap) out of later collections.

    Python's full collection walks every tracked object. In a started worker that took 50 to
    140 ms, a few times a second under load, once requests waiting for a group commit kept
    enough objects alive for the collector to promote; it set the p99 of token issuance
    (docs/architecture.md, "Hot paths after issue 13"). Frozen objects are still freed when no
    longer referenced; only a cycle among them would never be collected.
    """
    gc.collect()
    gc.freeze()


def _settling_heap_after_startup(send: Send) -> Send:
    async def send_after_startup(message: Message) -> None:
        if message["type"] == "lifespan.startup.complete":
            settle_heap()
        await send(message)

    return send_after_startup


class _RequestHeaders:
    """The request headers this middleware reads, found in one pass (the first of each name, as
    ``Headers.get`` would; ASGI servers give names in lower case)."""

    __slots__ = ("chunked", "content_length", "host", "if_none_match", "request_id")

    def __init__(self, raw: list[tuple[bytes, bytes]]) -> None:
        self.request_id: str | None = None
        self.host: str | None = None
        self.content_length: str | None = None
        self.chunked = False  # a Transfer-Encoding header is present
        self.if_none_match: str | None = None
        for name, value in raw:
            if name == b"host":
                if self.host is None:
                    self.host = value.decode("latin-1")
            elif name == b"content-length":
                if self.content_length is None:
                    self.content_length = value.decode("latin-1")
            elif name == b"request-id":
                if self.request_id is None:
                    self.request_id = value.decode("latin-1")
            elif name == b"transfer-encoding":
                self.chunked = True
            elif name == b"if-none-match" and self.if_none_match is None:
                self.if_none_match = value.decode("latin-1")


_DECORATED = frozenset(
    (b"request-id", b"x-content-type-options", b"ratelimit-remaining", b"strict-transport-security")
)


class _CountedBody:
    """Counts a streamed body's bytes; past the cap it answers 413 and stops the route."""

    def __init__(self, receive: Receive, limit: int, response: _Response) -> None:
        self._receive = receive
        self._limit = limit
        self._response = response
        self._seen = 0

    async def receive(self) -> Message:
        """The next ASGI message, or PayloadTooLarge once the body passed the cap."""
        message = await self._receive()
        if message["type"] == "http.request":
            self._seen += len(message.get("body", b""))
            if self._seen > self._limit:
                error = PayloadTooLarge(self._limit)
                await self._response.refuse(error, close=True)
                raise error
        return message


class _Response:
    """The send side of one request, adding the conventional headers."""

    def __init__(
        self,
        middleware: ConventionsMiddleware,
        scope: Scope,
        send: Send,
        request_id: str,
        https: bool,
        if_none_match: str | None,
        outcome: list[int] | None = None,
    ) -> None:
        self._middleware = middleware
        self._outcome = outcome
        self._scope = scope
        self._send = send
        self._request_id = request_id
        self._https = https
        self._if_none_match = if_none_match
        self._etag_wanted = scope["method"] in ("GET", "HEAD")
        self._held: Message | None = None
        self._body: list[bytes] = []
        self.started = False
        self.refused = False

    async def send_json(
        self, status: int, body: bytes, extra_headers: dict[str, str] | None = None
    ) -> None:
        """Send a complete JSON response through the same header logic."""
        headers = [
            (b"content-type", b"application/json"),
            (b"content-length", str(len(body)).encode()),
        ]
        headers.extend(
            (name.lower().encode(), value.encode()) for name, value in (extra_headers or {}).items()
        )
        await self.send({"type": "http.response.start", "status": status, "headers": headers})
        await self.send({"type": "http.response.body", "body": body})

    async def refuse(self, error: OstiaryError, *, close: bool = False) -> None:
        """Answer with a domain error in the API's shape, unless a response already began; then
        ignore whatever the route still sends. ``close`` ends the connection after it (uvicorn
        then never reads the rest of an oversize body)."""
        if self.refused or self.started:
            self.refused = True
            return
        status, body, headers = rendered(error)
        if close:
            headers["Connection"] = "close"
        await self.send_json(status, body, headers)
        self.refused = True

    def _decorate(self, message: Message) -> bytes:
        """Add the conventional headers to a response start; its content type, for the ETag."""
        headers = message["headers"] = list(message["headers"])
        content_type = b""
        replaces = False
        for name, value in headers:
            if name == b"content-type":
                content_type = content_type or value
            elif name in _DECORATED:
                replaces = True
        if replaces:  # a route set one of them: replace it, as a header mapping would
            headers[:] = [(name, value) for name, value in headers if name not in _DECORATED]
        headers.append((b"request-id", self._request_id.encode("latin-1")))
        headers.append((b"x-content-type-options", b"nosniff"))
        remaining = self._scope["state"].get("rate_limit_remaining")
        if remaining is not None:
            headers.append((b"ratelimit-remaining", str(remaining).encode("latin-1")))
        expires_at = self._scope["state"].get("token_expires_at")
        if expires_at is not None:
            headers.append((b"ostiary-token-expires", (isoformat(expires_at) or "").encode()))
        if self._https:
            headers.append((b"strict-transport-security", self._middleware.hsts.encode("latin-1")))
        return content_type

    async def send(self, message: Message) -> None:
        """Pass a message on, holding back successful JSON GET bodies to tag them."""
        if self.refused:
            return  # a 413 went out while the route was reading; drop the route's answer
        if message["type"] == "http.response.start":
            self.started = True
            if self._outcome is not None:
                self._outcome.append(message["status"])
            content_type = self._decorate(message)
            # Not a streamed NDJSON export: tagging it would hold the whole of it in memory.
            if (
                self._etag_wanted
                and message["status"] in (200, 206)
                and b"json" in content_type
                and b"ndjson" not in content_type
            ):
                self._held = message
                return
            await self._send(message)
            return
        if self._held is None or message["type"] != "http.response.body":
            await self._send(message)
            return
        self._body.append(message.get("body", b""))
        if message.get("more_body", False):
            return
        await self._release()

    async def _release(self) -> None:
        assert self._held is not None
        body = b"".join(self._body)
        etag = _etag(body)
        start = self._held
        start["headers"].append((b"etag", etag.encode("latin-1")))  # a list, since _decorate
        if self._if_none_match and _etag_matches(self._if_none_match, etag):
            start["status"] = 304
            headers = MutableHeaders(scope=start)
            del headers["content-length"]
            del headers["content-type"]
            body = b""
            if self._outcome is not None:
                self._outcome.append(304)
        await self._send(start)
        await self._send({"type": "http.response.body", "body": body})
