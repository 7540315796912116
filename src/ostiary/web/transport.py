"""The HTTP/1.1 protocol the server runs: uvicorn's httptools protocol with a bounded request head.

httptools buffers a request's line and headers until they are complete, with no limit: one
connection sending a header that never ends grew a worker by the size it sent (200 MB in, about
220 MB more memory). Here the bytes received while a head is incomplete are counted, and past
:data:`MAX_REQUEST_HEAD` the request is answered 431 (RFC 6585 section 5) and the connection
closed. A body is not counted here: the middleware caps it (``OSTIARY_MAX_BODY_SIZE``).

A response also leaves in one send instead of two. uvicorn writes a response's status line and
headers as soon as the application starts the response, and its body in a second write: two
system calls, two TCP segments, and a client that wakes twice for one answer. Here the head is
held back (:class:`CoalescedWrites`) until the body follows, which for every response the
application answers at once is in the same turn of the event loop (docs/architecture.md,
"One send per response").
"""

from __future__ import annotations

import asyncio
from typing import Any

from uvicorn.protocols.http.httptools_impl import HttpToolsProtocol

# nginx's default large_client_header_buffers hold 32 kB; browsers' cookies stay well below.
MAX_REQUEST_HEAD = 64 * 1024
_REFUSAL = (
    b"HTTP/1.1 431 Request Header Fields Too Large\r\n"
    b"content-type: application/json\r\n"
    b"connection: close\r\n"
)
_BODY = (
    b'{"id":"request_header_fields_too_large",'
    b'"message":"The request line and headers are too large."}'
)


class CoalescedWrites:
    """A connection's transport as a request's response cycle writes to it: a write is held
    until the next one, then both are sent as one. What is held is sent at the latest when the
    response completes (:meth:`flush`), when the connection is closed, or in the event loop's
    next turn (a streamed response whose next part is slow to come, a ``100 Continue``)."""

    __slots__ = ("_held", "_loop", "_transport")

    def __init__(self, transport: asyncio.Transport, loop: asyncio.AbstractEventLoop) -> None:
        self._transport = transport
        self._loop = loop
        self._held: bytes | None = None

    def write(self, data: bytes | bytearray | memoryview) -> None:
        """Hold ``data`` (a copy, unless it is ``bytes``: the writer may reuse its buffer once
        this returns), or send it together with what is held."""
        held = self._held
        if held is None:
            self._held = data if type(data) is bytes else bytes(data)
            self._loop.call_soon(self.flush)
        else:
            self._held = None
            # One send of both, without first copying them into one buffer.
            self._transport.writelines((held, data))

    def flush(self) -> None:
        """Send what is held, if anything (not once the connection is closing)."""
        held, self._held = self._held, None
        if held is not None and not self._transport.is_closing():
            self._transport.write(held)

    def close(self) -> None:
        """Send what is held, then close the connection."""
        self.flush()
        self._transport.close()

    def is_closing(self) -> bool:
        """Whether the connection is closing."""
        return self._transport.is_closing()

    def __getattr__(self, name: str) -> Any:
        return getattr(self._transport, name)


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that refuses a request head over :data:`MAX_REQUEST_HEAD`,
    and sends each response's head and body in one write (:class:`CoalescedWrites`)."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self._head_bytes = 0
        self._head_pending = False

    def data_received(self, data: bytes) -> None:
        """Feed the parser; when a head is still incomplete after this data, count it, and
        refuse once the head is too large."""
        super().data_received(data)
        if self._head_pending:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_REQUEST_HEAD:
                self._refuse()

    def on_message_begin(self) -> None:
        """A new request: its head starts."""
        self._head_pending = True
        self._head_bytes = 0
        super().on_message_begin()

    def connection_made(self, transport: asyncio.Transport) -> None:  # type: ignore[override]
        """A new connection: its responses are written through one :class:`CoalescedWrites`
        (one for the connection, so that pipelined responses keep their order)."""
        super().connection_made(transport)
        self._writes = CoalescedWrites(transport, self.loop)

    def on_headers_complete(self) -> None:
        """The head is complete: what follows is the body, capped by the middleware. The
        request's response cycle writes through the connection's :class:`CoalescedWrites`."""
        self._head_pending = False
        previous = self.cycle
        super().on_headers_complete()
        if self.cycle is not previous:  # a cycle was started (not an upgrade)
            self.cycle.transport = self._writes  # type: ignore[assignment]

    def on_response_complete(self) -> None:
        """A response is written: what is held of it is sent now, before the connection's next
        request is answered or its keep-alive timer starts."""
        self._writes.flush()
        super().on_response_complete()

    def send_400_response(self, msg: str) -> None:
        """uvicorn's answer to a request it cannot parse, after what an earlier response holds
        (it writes to the connection itself, then closes it)."""
        self._writes.flush()
        super().send_400_response(msg)

    def _refuse(self) -> None:
        if self.transport.is_closing():
            return
        self._writes.flush()  # what an earlier response holds goes first
        self.transport.write(
            _REFUSAL + b"content-length: " + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY
        )
        self.transport.close()
