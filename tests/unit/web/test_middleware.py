"""The conventions middleware, in-process: the 500 fallback and request ids."""

from __future__ import annotations

import uuid

import httpx
import pytest
from starlette.types import Receive, Scope, Send

from ostiary.web.middleware import ConventionsMiddleware, request_id_for


async def _exploding_app(scope: Scope, receive: Receive, send: Send) -> None:
    raise RuntimeError("secret internals: token=ostk_abc")


async def test_unexpected_exception_is_a_json_500_without_internals(
    caplog: pytest.LogCaptureFixture,
) -> None:
    app = ConventionsMiddleware(_exploding_app, hsts_max_age=60)
    transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
    async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as client:
        response = await client.get("/anything")
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


pytestmark = pytest.mark.anyio


@pytest.fixture
def anyio_backend() -> str:
    return "asyncio"
