"""The server's HTTP protocol (``web.transport``) sends each response in one write, and still
sends everything, in order, when a response has no body to join its head, is streamed, or waits
for its body behind ``100 Continue``."""

from __future__ import annotations

import asyncio
from collections.abc import Awaitable, Callable
from typing import Any

import uvicorn
from uvicorn.server import ServerState

from ostiary.web.transport import BoundedHttpToolsProtocol, CoalescedWrites
from tests.support.own_loop import run_in_own_loop

Receive = Callable[[], Awaitable[dict[str, Any]]]
Send = Callable[[dict[str, Any]], Awaitable[None]]

GET = b"GET / HTTP/1.1\r\nHost: example.com\r\n\r\n"


def in_own_loop(test: Callable[[], Awaitable[None]]) -> Callable[[], None]:
    """The coroutine test, run on an event loop of its own."""

    def run() -> None:
        run_in_own_loop(test, timeout=10)  # type: ignore[arg-type]

    run.__name__ = test.__name__
    return run


class RecordingTransport(asyncio.Transport):
    """A connection's transport that keeps every write, as the kernel would get it."""

    def __init__(self) -> None:
        super().__init__()
        self.writes: list[bytes] = []
        self.closed = False

    def write(self, data: bytes | bytearray | memoryview) -> None:
        assert not self.closed, "written after close"
        self.writes.append(bytes(data))

    def close(self) -> None:
        self.closed = True

    def is_closing(self) -> bool:
        return self.closed

    def get_extra_info(self, name: str, default: Any = None) -> Any:
        return {"sockname": ("127.0.0.1", 5000), "peername": ("127.0.0.1", 40000)}.get(
            name, default
        )

    def pause_reading(self) -> None:
        pass

    def resume_reading(self) -> None:
        pass

    @property
    def sent(self) -> bytes:
        return b"".join(self.writes)


async def ok(scope: dict[str, Any], receive: Receive, send: Send) -> None:
    """An application answering at once, as every Ostiary endpoint but the event export does."""
    body = b'{"ok":true}'
    await send(
        {
            "type": "http.response.start",
            "status": 200,
            "headers": [(b"content-type", b"application/json"), (b"content-length", b"11")],
        }
    )
    await send({"type": "http.response.body", "body": body if scope["method"] != "HEAD" else b""})


async def connect(
    app: Callable[..., Awaitable[None]],
) -> tuple[BoundedHttpToolsProtocol, RecordingTransport]:
    config = uvicorn.Config(app, http=BoundedHttpToolsProtocol, lifespan="off", log_level="error")
    protocol = BoundedHttpToolsProtocol(
        config, ServerState(), app_state={}, _loop=asyncio.get_running_loop()
    )
    transport = RecordingTransport()
    protocol.connection_made(transport)
    return protocol, transport


async def until(condition: Callable[[], bool]) -> None:
    for _ in range(200):
        if condition():
            return
        await asyncio.sleep(0)
    raise AssertionError("the protocol never got there")


@in_own_loop
async def test_a_response_leaves_in_one_write() -> None:
    protocol, transport = await connect(ok)
    protocol.data_received(GET)
    await until(lambda: transport.sent.endswith(b'{"ok":true}'))
    assert len(transport.writes) == 1
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"\r\n\r\n" in transport.writes[0]


@in_own_loop
async def test_pipelined_requests_get_their_answers_in_order() -> None:
    async def echo_path(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        body = scope["path"].encode()
        length = str(len(body)).encode()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", length)]}
        )
        await send({"type": "http.response.body", "body": body})

    protocol, transport = await connect(echo_path)
    protocol.data_received(b"".join(GET.replace(b"/ ", f"/{n} ".encode()) for n in range(3)))
    await until(lambda: transport.sent.endswith(b"/2"))
    assert len(transport.writes) == 3
    assert [write.rsplit(b"\r\n\r\n", 1)[1] for write in transport.writes] == [b"/0", b"/1", b"/2"]


@in_own_loop
async def test_the_head_of_a_head_request_is_sent() -> None:
    protocol, transport = await connect(ok)
    protocol.data_received(GET.replace(b"GET", b"HEAD"))
    await until(lambda: transport.sent.endswith(b"\r\n\r\n"))
    assert transport.sent.startswith(b"HTTP/1.1 200 OK\r\n")
    assert b"content-length: 11\r\n" in transport.sent
    assert not transport.sent.endswith(b"}")


@in_own_loop
async def test_a_streamed_response_is_sent_as_it_comes() -> None:
    second_part = asyncio.Event()

    async def streamed(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"first", "more_body": True})
        await send({"type": "http.response.body", "body": b"next", "more_body": True})
        await second_part.wait()
        await send({"type": "http.response.body", "body": b"last"})

    protocol, transport = await connect(streamed)
    protocol.data_received(GET)
    # Everything written before the application waits has left, not only what a later write
    # would have taken along.
    await until(lambda: transport.sent.endswith(b"4\r\nnext\r\n"))
    assert b"5\r\nfirst\r\n" in transport.sent
    second_part.set()
    await until(lambda: transport.sent.endswith(b"4\r\nlast\r\n0\r\n\r\n"))


@in_own_loop
async def test_a_client_expecting_100_continue_gets_it_before_it_sends_the_body() -> None:
    async def read_body(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        message = await receive()
        body = message["body"]
        length = str(len(body)).encode()
        await send(
            {"type": "http.response.start", "status": 200, "headers": [(b"content-length", length)]}
        )
        await send({"type": "http.response.body", "body": body})

    protocol, transport = await connect(read_body)
    protocol.data_received(
        b"POST / HTTP/1.1\r\nHost: example.com\r\nExpect: 100-continue\r\nContent-Length: 5\r\n\r\n"
    )
    await until(lambda: transport.sent == b"HTTP/1.1 100 Continue\r\n\r\n")
    protocol.data_received(b"hello")
    await until(lambda: transport.sent.endswith(b"\r\n\r\nhello"))


@in_own_loop
async def test_closing_sends_what_is_held_first() -> None:
    transport = RecordingTransport()
    writes = CoalescedWrites(transport, asyncio.get_running_loop())
    writes.write(b"head")
    assert transport.writes == []
    writes.close()
    assert transport.writes == [b"head"]
    assert transport.closed


@in_own_loop
async def test_nothing_is_written_to_a_connection_already_closing() -> None:
    transport = RecordingTransport()
    writes = CoalescedWrites(transport, asyncio.get_running_loop())
    writes.write(b"head")
    transport.close()
    await asyncio.sleep(0)  # the loop's next turn, when a held write is sent
    assert transport.writes == []


@in_own_loop
async def test_a_refusal_of_the_next_request_comes_after_what_is_held() -> None:
    body = asyncio.Event()

    async def slow_body(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        headers = [(b"content-length", b"2")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await body.wait()
        await send({"type": "http.response.body", "body": b"ok"})

    protocol, transport = await connect(slow_body)
    protocol.data_received(GET)
    await until(lambda: protocol.cycle is not None and protocol.cycle.response_started)
    assert transport.writes == []  # the head is held, for its body
    protocol.data_received(b"\x00not a request\r\n\r\n")  # uvicorn answers 400 and closes
    assert transport.writes[0].startswith(b"HTTP/1.1 200 OK\r\n")
    assert transport.writes[1].startswith(b"HTTP/1.1 400 Bad Request\r\n")
    assert transport.closed


@in_own_loop
async def test_a_buffer_the_application_reuses_is_sent_as_it_was_written() -> None:
    async def reused_buffer(scope: dict[str, Any], receive: Receive, send: Send) -> None:
        buffer = bytearray(b"AAAA")
        headers = [(b"content-length", b"12")]
        await send({"type": "http.response.start", "status": 200, "headers": headers})
        await send({"type": "http.response.body", "body": buffer, "more_body": True})
        buffer[:] = b"BBBB"
        await send({"type": "http.response.body", "body": buffer, "more_body": True})
        buffer[:] = b"CCCC"
        await send({"type": "http.response.body", "body": buffer})

    protocol, transport = await connect(reused_buffer)
    protocol.data_received(GET)
    await until(lambda: transport.sent.endswith(b"CCCC"))
    assert transport.sent.split(b"\r\n\r\n", 1)[1] == b"AAAABBBBCCCC"
