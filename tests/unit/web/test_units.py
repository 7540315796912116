"""The per-request unit the services take: an API route's unit works in the request's one
transaction, with the request's context and the server's configured lifetimes."""

from __future__ import annotations

import asyncio
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from types import SimpleNamespace

import httpx
from fastapi import FastAPI

from ostiary.config import load_settings
from ostiary.db import Database
from ostiary.security.hashing import SecretHasher
from ostiary.web.api.deps import SessionDep, UnitDep


def test_an_api_unit_is_the_request_transaction_with_its_context_and_lifetimes(
    tmp_path: Path,
) -> None:
    settings = load_settings(data_dir=tmp_path).model_copy(
        update={"oauth_access_token_ttl": 1234, "grant_code_ttl": 56}
    )
    database = Database(settings.effective_database_url)
    app = FastAPI()
    app.state.services = SimpleNamespace(
        database=database, hasher=SecretHasher(b"k" * 32), settings=settings
    )

    @app.post("/probe")
    async def probe(session: SessionDep, unit: UnitDep) -> dict[str, object]:
        return {
            "same_transaction": unit.session is session,
            "ip": unit.context.ip,
            "user_agent": unit.context.user_agent,
            "lifetimes": [unit.lifetimes.oauth_access, unit.lifetimes.grant_code],
        }

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://test") as client:
            return await client.post("/probe", headers={"User-Agent": "probe/1"})

    try:
        # A loop of its own, in a thread: another test's (playwright's) may run in this one.
        with ThreadPoolExecutor(1) as pool:
            response = pool.submit(asyncio.run, call()).result(timeout=30)
    finally:
        database.dispose()
    assert response.json() == {
        "same_transaction": True,
        "ip": "127.0.0.1",
        "user_agent": "probe/1",
        "lifetimes": [1234, 56],
    }
