"""CPU time per request of the three hot paths, through the ASGI application in this process:
no network, no other worker, so the figure is steady on a busy machine where req/s are not.

- ``token``: ``POST /oauth/token``, client_credentials, client_secret_basic (committed);
- ``introspect``: ``POST /oauth/introspect`` of a live access token;
- ``resource``: ``GET /account`` with that token as Bearer and the v3 Accept header.

Each is run ``--rounds`` times ``--requests`` requests one after the other (the event loop does
nothing else); the best round's CPU time per request is printed, in microseconds.

    .venv/bin/python -m bench.inprocess [--requests 2000] [--rounds 5] [--only token]
    .venv/bin/python -m bench.inprocess --profile token   # cProfile of one round, top 40
"""

from __future__ import annotations

import argparse
import asyncio
import base64
import cProfile
import json
import pstats
import tempfile
import time
from collections.abc import Awaitable, Callable
from pathlib import Path
from typing import Any

from tests.support.factories import Factory

from ostiary.app import create_app
from ostiary.config import load_settings
from ostiary.migrate import upgrade

ASGIApp = Callable[[dict[str, Any], Any, Any], Awaitable[None]]
V3 = b"application/vnd.heroku+json; version=3"


async def call(
    app: ASGIApp, method: str, path: str, headers: list[tuple[bytes, bytes]], body: bytes = b""
) -> tuple[int, bytes, list[tuple[bytes, bytes]]]:
    """One request through the ASGI app: its status, body and headers."""
    scope = {
        "type": "http",
        "asgi": {"version": "3.0"},
        "http_version": "1.1",
        "method": method,
        "scheme": "http",
        "path": path,
        "raw_path": path.encode(),
        "query_string": b"",
        "root_path": "",
        "headers": [(b"host", b"127.0.0.1:5000"), *headers]
        + ([(b"content-length", str(len(body)).encode())] if body else []),
        "client": ("127.0.0.1", 40000),
        "server": ("127.0.0.1", 5000),
    }
    sent = False
    status = 0
    chunks: list[bytes] = []
    headers_sent: list[tuple[bytes, bytes]] = []

    async def receive() -> dict[str, Any]:
        nonlocal sent
        if sent:
            await asyncio.sleep(3600)
        sent = True
        return {"type": "http.request", "body": body, "more_body": False}

    async def send(message: dict[str, Any]) -> None:
        nonlocal status
        if message["type"] == "http.response.start":
            status = message["status"]
            headers_sent.extend(message["headers"])
        elif message["type"] == "http.response.body":
            chunks.append(message.get("body", b""))

    await app(scope, receive, send)
    return status, b"".join(chunks), headers_sent


def main() -> None:
    """Set up a database with an account and a client, then measure."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=2000)
    parser.add_argument("--rounds", type=int, default=5)
    parser.add_argument("--only", action="append", choices=["token", "introspect", "resource"])
    parser.add_argument("--profile", choices=["token", "introspect", "resource"])
    parser.add_argument("--database-url", default=None)
    parser.add_argument("--sort", default="cumulative")
    options = parser.parse_args()
    with tempfile.TemporaryDirectory() as tmp:
        asyncio.run(run(Path(tmp), options))


async def run(data_dir: Path, options: argparse.Namespace) -> None:
    """Measure each path; print one line per path (and a profile if asked)."""
    settings = load_settings(
        data_dir=data_dir, database_url=options.database_url, rate_limit_capacity=10**9
    )
    upgrade(settings.effective_database_url)
    key = Factory(data_dir, options.database_url).account("bench").api_key
    app: ASGIApp = create_app(settings)
    api = [(b"accept", V3), (b"authorization", f"Bearer {key}".encode())]
    json_api = [*api, (b"content-type", b"application/json")]
    status, body, _ = await call(
        app,
        "POST",
        "/oauth/clients",
        json_api,
        json.dumps(
            {
                "name": "bench",
                "redirect_uri": "https://example.com/cb",
                "client_credentials_scopes": ["read", "identity"],
            }
        ).encode(),
    )
    assert status == 201, body
    client = json.loads(body)
    basic = b"Basic " + base64.b64encode(f"{client['id']}:{client['secret']}".encode())
    form = [(b"content-type", b"application/x-www-form-urlencoded"), (b"authorization", basic)]
    status, body, _ = await call(
        app, "POST", "/oauth/token", form, b"grant_type=client_credentials"
    )
    assert status == 200, body
    token = json.loads(body)["access_token"]
    paths: dict[str, tuple[str, str, list[tuple[bytes, bytes]], bytes]] = {
        "token": ("POST", "/oauth/token", form, b"grant_type=client_credentials"),
        "introspect": ("POST", "/oauth/introspect", form, f"token={token}".encode()),
        "resource": (
            "GET",
            "/account",
            [(b"accept", V3), (b"authorization", f"Bearer {token}".encode())],
            b"",
        ),
    }
    for name in options.only or list(paths):
        method, path, headers, payload = paths[name]
        best = float("inf")
        for _ in range(options.rounds):
            start = time.process_time()
            for _ in range(options.requests):
                status, body, _ = await call(app, method, path, headers, payload)
                assert status == 200, body
            best = min(best, (time.process_time() - start) / options.requests)
        print(f"{name:10s} {best * 1e6:7.1f} us CPU/request (best of {options.rounds})")
    if options.profile:
        method, path, headers, payload = paths[options.profile]
        profiler = cProfile.Profile()
        profiler.enable()
        for _ in range(options.requests):
            await call(app, method, path, headers, payload)
        profiler.disable()
        pstats.Stats(profiler).sort_stats(options.sort).print_stats(40)


if __name__ == "__main__":
    main()
