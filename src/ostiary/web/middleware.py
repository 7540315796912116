"""The conventions every response follows, applied once around the whole application.

In order, for each HTTP request:

1. ``Request-Id``: a new UUID first, then the UUID-shaped ids the client sent.
2. HTTPS only: plain HTTP from a peer that is not loopback gets 403 ``https_required``. (The
   proxy-headers middleware outside this one has already replaced scheme and peer with the
   ``X-Forwarded-*`` values, but only for configured proxies.)
3. Security headers; ``Strict-Transport-Security`` on HTTPS.
4. ``RateLimit-Remaining`` when the request was counted against an account.
5. ``ETag`` on successful JSON GET responses, and 304 when ``If-None-Match`` matches.
6. An exception that escapes everything else becomes 500 ``internal_server_error``, logged here
   with its traceback and shown to the client without internals.
"""

from __future__ import annotations

import hashlib
import json
import logging
import re
import uuid

from starlette.datastructures import Headers, MutableHeaders
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ostiary.net import is_loopback
from ostiary.web.errors import error_body, internal_error_body

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

    def __init__(self, app: ASGIApp, *, hsts_max_age: int) -> None:
        self.app = app
        self.hsts = f"max-age={hsts_max_age}; includeSubDomains"

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        """Handle one ASGI call."""
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        headers = Headers(scope=scope)
        state = scope.setdefault("state", {})
        request_id = request_id_for(headers.get("request-id"))
        state["request_id"] = request_id.split(",", 1)[0]
        https = scope.get("scheme") == "https"
        client = scope.get("client")
        response = _Response(self, scope, send, request_id, https, headers)

        if not https and not is_loopback(client[0] if client else None):
            await response.send_json(
                403,
                json.dumps(
                    error_body("https_required", "This API is only available over HTTPS.")
                ).encode(),
            )
            return
        try:
            await self.app(scope, receive, response.send)
        except Exception:
            logger.exception("unhandled error in %s %s", scope["method"], scope["path"])
            if response.started:
                raise
            await response.send_json(500, internal_error_body())


class _Response:
    """The send side of one request, adding the conventional headers."""

    def __init__(
        self,
        middleware: ConventionsMiddleware,
        scope: Scope,
        send: Send,
        request_id: str,
        https: bool,
        request_headers: Headers,
    ) -> None:
        self._middleware = middleware
        self._scope = scope
        self._send = send
        self._request_id = request_id
        self._https = https
        self._if_none_match = request_headers.get("if-none-match")
        self._etag_wanted = scope["method"] in ("GET", "HEAD")
        self._held: Message | None = None
        self._body: list[bytes] = []
        self.started = False

    async def send_json(self, status: int, body: bytes) -> None:
        """Send a complete JSON response through the same header logic."""
        await self.send(
            {
                "type": "http.response.start",
                "status": status,
                "headers": [
                    (b"content-type", b"application/json"),
                    (b"content-length", str(len(body)).encode()),
                ],
            }
        )
        await self.send({"type": "http.response.body", "body": body})

    def _decorate(self, message: Message) -> None:
        headers = MutableHeaders(scope=message)
        headers["Request-Id"] = self._request_id
        headers["X-Content-Type-Options"] = "nosniff"
        remaining = self._scope["state"].get("rate_limit_remaining")
        if remaining is not None:
            headers["RateLimit-Remaining"] = str(remaining)
        if self._https:
            headers["Strict-Transport-Security"] = self._middleware.hsts

    async def send(self, message: Message) -> None:
        """Pass a message on, holding back successful JSON GET bodies to tag them."""
        if message["type"] == "http.response.start":
            self.started = True
            self._decorate(message)
            content_type = Headers(raw=message["headers"]).get("content-type", "")
            if self._etag_wanted and message["status"] in (200, 206) and "json" in content_type:
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
        headers = MutableHeaders(scope=start)
        headers["ETag"] = etag
        if self._if_none_match and _etag_matches(self._if_none_match, etag):
            start["status"] = 304
            del headers["content-length"]
            del headers["content-type"]
            body = b""
        await self._send(start)
        await self._send({"type": "http.response.body", "body": body})
