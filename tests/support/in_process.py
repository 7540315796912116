"""One request to an ASGI application in-process, on an event loop of its own
(``tests.support.own_loop``), from the loopback address the conventions middleware believes."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.types import ASGIApp

from tests.support.own_loop import run_in_own_loop


def send(app: ASGIApp, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """``app``'s answer to ``method path`` (``kwargs`` as httpx's ``request`` takes them)."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.request(method, path, **kwargs)

    return run_in_own_loop(call, timeout=30)
