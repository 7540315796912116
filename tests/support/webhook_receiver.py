"""A webhook receiver the tests run: an HTTP server on 127.0.0.1 that records each POST (its
headers and exact body) and answers with the statuses it is told to, in order."""

from __future__ import annotations

import base64
import hashlib
import hmac
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


@dataclass(frozen=True)
class Received:
    """One request the receiver got."""

    path: str
    headers: dict[str, str]
    body: bytes

    def signed_with(self, secret: str) -> bool:
        """Whether ``Heroku-Webhook-Hmac-SHA256`` is the body's HMAC under ``secret``, checked
        as a receiver would (constant time)."""
        expected = base64.b64encode(
            hmac.new(secret.encode(), self.body, hashlib.sha256).digest()
        ).decode()
        return hmac.compare_digest(expected, self.headers.get("heroku-webhook-hmac-sha256", ""))


@dataclass
class Receiver:
    """The running receiver: its URL, what it got, and the statuses still to answer."""

    port: int
    answers: list[int] = field(default_factory=list)
    received: list[Received] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    @property
    def url(self) -> str:
        """Where to point a webhook."""
        return f"http://127.0.0.1:{self.port}/hooks"

    def next_status(self) -> int:
        """The next scripted status, 200 once the script is spent."""
        with self.lock:
            return self.answers.pop(0) if self.answers else 200


@contextmanager
def webhook_receiver(answers: list[int] | None = None) -> Iterator[Receiver]:
    """Run a receiver for the block; it answers ``answers`` in order, then 200."""
    state: list[Receiver] = []

    class Handler(BaseHTTPRequestHandler):
        def do_POST(self) -> None:
            length = int(self.headers.get("Content-Length", "0"))
            body = self.rfile.read(length)
            receiver = state[0]
            with receiver.lock:
                receiver.received.append(
                    Received(self.path, {k.lower(): v for k, v in self.headers.items()}, body)
                )
            status = receiver.next_status()
            self.send_response(status)
            if 300 <= status < 400:
                self.send_header("Location", f"http://127.0.0.1:{receiver.port}/elsewhere")
            self.send_header("Content-Length", "0")
            self.end_headers()

        def log_message(self, format: str, *args: object) -> None:
            """Quiet: the tests read what was received instead."""

    server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    state.append(Receiver(port=server.server_address[1], answers=list(answers or [])))
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield state[0]
    finally:
        server.shutdown()
        server.server_close()
        thread.join(5)
