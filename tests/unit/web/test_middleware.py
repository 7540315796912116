"""The conventions middleware, in-process: the 500 fallback and request ids."""

from __future__ import annotations

import uuid

import httpx
import pytest
from starlette.types import ASGIApp, Message, Receive, Scope, Send

from ostiary.web.middleware import ConventionsMiddleware, request_id_for
from tests.support.in_process import send
from tests.support.own_loop import run_in_own_loop


def _get(app: ASGIApp, path: str) -> httpx.Response:
    """One in-process request (``tests.support.in_process``)."""
    return send(app, "GET", path)


async def _exploding_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("secret internals: token=ostk_abc")


def test_unexpected_exception_is_a_json_500_without_internals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = ConventionsMiddleware(_exploding_app, hsts_max_age=60)
    response = _get(app, "/anything")
    assert response.status_code == 500
    assert response.json() == {
        "id": "internal_server_error",
        "message": "Internal server error. Please try again later.",
    }
    assert uuid.UUID(response.headers["request-id"])
    assert "internals" not in response.text
    assert "unhandled error" in caplog.text


def test_request_ids_keep_at_most_ten_client_ids() -> None:
    sent = ",".join(str(uuid.uuid4()) for _ in range(20))
    assert len(request_id_for(sent).split(",")) == 11


def _request(
    app: ASGIApp, method: str, path: str, *, content: object = None, headers: dict[str, str]
) -> httpx.Response:
    """Like ``_get``, with a body (bytes, or an async iterator for a chunked body)."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.request(method, path, content=content, headers=headers)  # type: ignore[arg-type]

    return run_in_own_loop(call, timeout=30)


class _BodyReader:
    """An app that reads the whole body and echoes its size; counts what it was handed."""

    def __init__(self) -> None:
        self.received = 0
        self.called = False

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        self.called = True
        more = True
        while more:
            message = await receive()
            self.received += len(message.get("body", b""))
            more = message.get("more_body", False)
        body = str(self.received).encode()
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": body})


def test_a_declared_length_over_the_cap_is_413_before_the_app_runs() -> None:
    reader = _BodyReader()
    app = ConventionsMiddleware(reader, hsts_max_age=60, max_body_size=1024)
    response = _request(app, "POST", "/auth", content=b"x" * 4096, headers={})
    assert response.status_code == 413
    assert response.json()["id"] == "request_entity_too_large"
    assert "1024 bytes" in response.json()["message"]
    assert response.headers["connection"] == "close"
    assert not reader.called


def test_a_chunked_body_is_cut_off_at_the_cap() -> None:
    reader = _BodyReader()
    app = ConventionsMiddleware(reader, hsts_max_age=60, max_body_size=1024)
    sent: list[int] = []

    async def chunks() -> object:
        for _ in range(1000):  # 1000 x 512 bytes, far past the cap
            sent.append(512)
            yield b"x" * 512

    response = _request(app, "POST", "/auth", content=chunks(), headers={})
    assert response.status_code == 413
    assert response.json()["id"] == "request_entity_too_large"
    assert reader.received <= 1024 + 512  # it stopped at the first chunk past the cap


def test_bodies_within_the_cap_pass() -> None:
    reader = _BodyReader()
    app = ConventionsMiddleware(reader, hsts_max_age=60, max_body_size=1024)
    response = _request(app, "POST", "/auth", content=b"x" * 1024, headers={})
    assert (response.status_code, response.text) == (200, "1024")


def test_an_unknown_host_is_400_before_the_app_runs() -> None:
    reader = _BodyReader()
    app = ConventionsMiddleware(reader, hsts_max_age=60)
    response = _request(app, "GET", "/oauth/authorize", headers={"Host": "evil.example"})
    assert response.status_code == 400
    assert response.json()["id"] == "bad_request"
    assert "evil.example" in response.json()["message"]
    assert not reader.called


def test_health_answers_any_host() -> None:
    reader = _BodyReader()
    app = ConventionsMiddleware(reader, hsts_max_age=60)
    response = _request(app, "GET", "/health", headers={"Host": "10.0.0.5"})
    assert response.status_code == 200


async def _database_gone(scope: Scope, receive: Receive, send: Send) -> None:
    import psycopg

    raise psycopg.OperationalError("connection to server at 127.0.0.1 failed")


def test_a_lost_database_escaping_everything_is_503_with_retry_after() -> None:
    app = ConventionsMiddleware(_database_gone, hsts_max_age=60)
    response = _get(app, "/account")
    assert response.status_code == 503
    assert response.json()["id"] == "service_unavailable"
    assert int(response.headers["retry-after"]) > 0


def test_the_heap_built_at_startup_is_left_out_of_later_collections() -> None:
    """After the application reports its startup complete, the objects alive then are frozen
    (gc.freeze): a full collection no longer walks them (docs/architecture.md)."""
    import gc

    sent: list[str] = []

    async def lifespan_app(scope: Scope, receive: Receive, send: Send) -> None:
        await receive()
        await send({"type": "lifespan.startup.complete"})

    async def receive() -> Message:
        return {"type": "lifespan.startup"}

    async def send(message: Message) -> None:
        sent.append(message["type"])

    app = ConventionsMiddleware(lifespan_app, hsts_max_age=60)
    gc.unfreeze()
    try:
        run_in_own_loop(lambda: app({"type": "lifespan"}, receive, send))
        assert sent == ["lifespan.startup.complete"]
        assert gc.get_freeze_count() > 0
    finally:
        gc.unfreeze()


def test_observers_see_each_finished_request_without_its_query() -> None:
    from ostiary.web.observed import ObservedRequest

    seen: list[ObservedRequest] = []

    async def teapot(scope: Scope, receive: Receive, send: Send) -> None:
        scope["state"]["account_id"] = "acct"
        scope["state"]["authorization_id"] = "auth"
        await send({"type": "http.response.start", "status": 418, "headers": []})
        await send({"type": "http.response.body", "body": b"short and stout"})

    def broken(observed: ObservedRequest) -> None:
        raise RuntimeError("an observer that fails costs the request nothing")

    app = ConventionsMiddleware(teapot, hsts_max_age=60, observers=(broken, seen.append))
    response = _request(app, "GET", "/pot?token=secret", headers={"User-Agent": "kettle/1"})
    assert response.status_code == 418
    assert len(seen) == 1
    observed = seen[0]
    assert (observed.method, observed.status, observed.ip) == ("GET", 418, "127.0.0.1")
    assert (observed.account_id, observed.authorization_id) == ("acct", "auth")
    assert observed.user_agent == "kettle/1"
    assert observed.request_id == response.headers["request-id"]
    assert observed.route is None  # no router matched: there is no template to report
    assert "secret" not in repr(observed)
    assert 0 <= observed.duration < 5


def test_observers_see_an_unhandled_error_as_a_500() -> None:
    from ostiary.web.observed import ObservedRequest

    seen: list[ObservedRequest] = []
    app = ConventionsMiddleware(_exploding_app, hsts_max_age=60, observers=(seen.append,))
    assert _get(app, "/anything").status_code == 500
    assert [observed.status for observed in seen] == [500]
