"""The HTTP/1.1 protocol the server runs: uvicorn's httptools protocol with a bounded request head.

httptools buffers a request's line and headers until they are complete, with no limit: one
connection sending a header that never ends grew a worker by the size it sent (200 MB in, about
220 MB more memory). Here the bytes received while a head is incomplete are counted, and past
:data:`MAX_REQUEST_HEAD` the request is answered 431 (RFC 6585 section 5) and the connection
closed. A body is not counted here: the middleware caps it (``OSTIARY_MAX_BODY_SIZE``).
"""

from __future__ import annotations

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


class BoundedHttpToolsProtocol(HttpToolsProtocol):
    """:class:`HttpToolsProtocol` that refuses a request head over :data:`MAX_REQUEST_HEAD`."""

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

    def on_headers_complete(self) -> None:
        """The head is complete: what follows is the body, capped by the middleware."""
        self._head_pending = False
        super().on_headers_complete()

    def _refuse(self) -> None:
        if self.transport.is_closing():
            return
        self.transport.write(
            _REFUSAL + b"content-length: " + str(len(_BODY)).encode() + b"\r\n\r\n" + _BODY
        )
        self.transport.close()
