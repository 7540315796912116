"""The conventions middleware, in-process: the 500 fallback and request ids."""

from __future__ import annotations

import asyncio
import threading
import uuid

import httpx
import pytest
from starlette.types import ASGIApp, Receive, Scope, Send

from ostiary.web.middleware import ConventionsMiddleware, request_id_for


def _get(app: ASGIApp, path: str) -> httpx.Response:
    """One in-process request, on a thread with its own event loop (another test's loop, such
    as Playwright's in the same worker, may be running on this one)."""
    result: list[httpx.Response] = []

    async def call() -> None:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            result.append(await client.get(path))

    worker = threading.Thread(target=lambda: asyncio.run(call()))
    worker.start()
    worker.join(timeout=30)
    return result[0]


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
