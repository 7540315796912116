"""How one delivery attempt reaches its receiver: a fresh httpx client whose connections are
made by :class:`GuardedBackend`, which

- resolves the receiver's host itself, refuses to connect when any address it resolves to is
  loopback, unspecified or link-local (unless ``OSTIARY_WEBHOOK_ALLOW_LOOPBACK``), and connects
  to an address it checked, so no second lookup can answer differently (DNS rebinding between
  the check and the connection);
- bounds the whole attempt by one wall-clock deadline: every blocking socket operation (connect,
  TLS handshake, each send and each receive) waits at most what is left of it. httpx's own
  timeouts are per operation, so a receiver trickling its headers a byte every few seconds
  would otherwise hold the attempt for ever.

What stays outside the deadline: the name lookup (``getaddrinfo`` has no timeout; the system
resolver's own bounds it, a few seconds per name server).
"""

from __future__ import annotations

import contextlib
import ipaddress
import socket
import ssl
import time
from collections.abc import Iterable, Iterator
from typing import Any

import httpcore
import httpx

from ostiary.webhooks.rules import is_forbidden_address


class ForbiddenAddress(Exception):
    """The receiver's host resolved to an address deliveries may not go to."""


@contextlib.contextmanager
def _mapped(timed_out: type[Exception], failed: type[Exception]) -> Iterator[None]:
    """The socket's errors as httpcore's, which httpx turns into its own."""
    try:
        yield
    except TimeoutError as error:
        raise timed_out(str(error) or "timed out") from error
    except OSError as error:
        raise failed(type(error).__name__) from error


class DeadlineStream(httpcore.NetworkStream):
    """A connected socket whose every operation ends by the attempt's deadline."""

    def __init__(self, sock: socket.socket, deadline: float) -> None:
        self._sock = sock
        self._deadline = deadline

    def _left(self, timeout: float | None, expired: type[Exception]) -> float:
        left = self._deadline - time.monotonic()
        if left <= 0:
            raise expired("the delivery attempt's deadline passed")
        return left if timeout is None else min(timeout, left)

    def read(self, max_bytes: int, timeout: float | None = None) -> bytes:
        """Receive, waiting no later than the deadline."""
        with _mapped(httpcore.ReadTimeout, httpcore.ReadError):
            self._sock.settimeout(self._left(timeout, httpcore.ReadTimeout))
            return self._sock.recv(max_bytes)

    def write(self, buffer: bytes, timeout: float | None = None) -> None:
        """Send all of ``buffer``; each partial send waits only what is left of the deadline
        (a receiver reading slowly cannot stretch it)."""
        with _mapped(httpcore.WriteTimeout, httpcore.WriteError):
            while buffer:
                self._sock.settimeout(self._left(timeout, httpcore.WriteTimeout))
                sent = self._sock.send(buffer)
                buffer = buffer[sent:]

    def close(self) -> None:
        """Close the socket."""
        self._sock.close()

    def start_tls(
        self,
        ssl_context: ssl.SSLContext,
        server_hostname: str | None = None,
        timeout: float | None = None,
    ) -> httpcore.NetworkStream:
        """The TLS stream over this socket; the handshake (bounded as a whole by the socket
        timeout) also ends by the deadline."""
        with _mapped(httpcore.ConnectTimeout, httpcore.ConnectError):
            try:
                self._sock.settimeout(self._left(timeout, httpcore.ConnectTimeout))
                wrapped = ssl_context.wrap_socket(self._sock, server_hostname=server_hostname)
            except Exception:
                self.close()
                raise
        return DeadlineStream(wrapped, self._deadline)

    def get_extra_info(self, info: str) -> Any:
        """What httpcore asks of a stream."""
        if info == "ssl_object" and isinstance(self._sock, ssl.SSLSocket):
            return self._sock._sslobj  # type: ignore[attr-defined]  # as httpcore's SyncStream
        if info == "client_addr":
            return self._sock.getsockname()
        if info == "server_addr":
            return self._sock.getpeername()
        if info == "socket":
            return self._sock
        # "is_readable" (whether a pooled connection was dropped) is never asked: one request
        # per client.
        return None


class GuardedBackend(httpcore.NetworkBackend):
    """Connects only to allowed addresses, and hands out streams bound by ``deadline`` (a
    ``time.monotonic()`` value)."""

    def __init__(self, deadline: float, *, allow_loopback: bool) -> None:
        self.deadline = deadline
        self.allow_loopback = allow_loopback

    def addresses(self, host: str, port: int) -> list[tuple[Any, ...]]:
        """Where ``host`` resolves to; raises :class:`ForbiddenAddress` when any address is
        forbidden (one bad answer among good ones is still a receiver naming this machine)."""
        try:
            found = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM)
        except OSError as error:
            raise httpcore.ConnectError(
                f"cannot resolve the host ({type(error).__name__})"
            ) from None
        if not self.allow_loopback:
            for *_, sockaddr in found:
                if is_forbidden_address(ipaddress.ip_address(str(sockaddr[0]).split("%")[0])):
                    raise ForbiddenAddress(
                        "the receiver's host resolves to a loopback, unspecified or link-local "
                        "address"
                    )
        return [(family, sockaddr) for family, _, _, _, sockaddr in found]

    def connect_tcp(
        self,
        host: str,
        port: int,
        timeout: float | None = None,
        local_address: str | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """A connection to the first checked address that answers, by the deadline."""
        last: Exception = httpcore.ConnectError("no address to connect to")
        for family, sockaddr in self.addresses(host, port):
            left = self.deadline - time.monotonic()
            if left <= 0:
                raise httpcore.ConnectTimeout("the delivery attempt's deadline passed")
            sock = socket.socket(family, socket.SOCK_STREAM)
            try:
                sock.settimeout(left if timeout is None else min(timeout, left))
                sock.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)
                for option in socket_options or ():
                    sock.setsockopt(*option)
                sock.connect(sockaddr)
            except TimeoutError:
                sock.close()
                last = httpcore.ConnectTimeout("connecting timed out")
            except OSError as error:
                sock.close()
                last = httpcore.ConnectError(type(error).__name__)
            else:
                return DeadlineStream(sock, self.deadline)
        raise last

    def connect_unix_socket(
        self,
        path: str,
        timeout: float | None = None,
        socket_options: Iterable[Any] | None = None,
    ) -> httpcore.NetworkStream:
        """Never: a receiver is a URL."""
        raise httpcore.ConnectError("unix sockets are not receivers")

    def sleep(self, seconds: float) -> None:
        """As httpcore's own backend."""
        time.sleep(seconds)


class GuardedTransport(httpx.HTTPTransport):
    """httpx's transport, its connection pool built on a :class:`GuardedBackend`."""

    def __init__(self, backend: GuardedBackend) -> None:
        super().__init__(trust_env=False)
        # httpx offers no way to pass a network backend: its pool is rebuilt with the same
        # TLS context (certificates verified) and ours (tests/unit/webhooks guard the shape).
        ssl_context = self._pool._ssl_context
        self._pool = httpcore.ConnectionPool(
            ssl_context=ssl_context, max_connections=1, network_backend=backend
        )


def attempt_client(timeout: float, *, allow_loopback: bool) -> httpx.Client:
    """A client for one attempt: no redirect followed, no proxy taken from the environment,
    ``timeout`` per operation and in all, counted from now."""
    backend = GuardedBackend(time.monotonic() + timeout, allow_loopback=allow_loopback)
    return httpx.Client(
        transport=GuardedTransport(backend),
        timeout=httpx.Timeout(timeout),
        follow_redirects=False,
        trust_env=False,
    )
