"""Hypothesis over JSON request bodies, in-process against the whole ASGI application: whatever
the body (any JSON value, strings with NUL, control characters or unpaired surrogates, deep
nesting, bytes that are not UTF-8), every body-taking route answers below 500, and an error in
the API's ``{"id", "message"}`` shape."""

from __future__ import annotations

import asyncio
import json
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from ostiary.app import create_app
from ostiary.config import load_settings
from ostiary.migrate import upgrade
from tests.support.factories import Factory
from tests.support.server import API_HEADERS

HOSTILE_TEXT = [
    "",
    "\x00",
    "a\x00b",
    "\ud800",
    "x\udfffy",
    "\x01\x1b[31m\x7f",
    "\r\n",
    "日本",
    "..;,",
]
text = st.one_of(st.sampled_from(HOSTILE_TEXT), st.text(max_size=20))
json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=False) | text,
    lambda children: (
        st.lists(children, max_size=4)
        | st.dictionaries(
            st.one_of(text, st.sampled_from(["name", "description", "scope"])), children, max_size=5
        )
    ),
    max_leaves=15,
)
# Bodies shaped like the real ones, so validation gets past the first field.
FIELDS = [
    "name",
    "description",
    "scope",
    "redirect_uri",
    "region",
    "stack",
    "user",
    "plan",
    "expires_in",
    "client",
    "grant",
    "client_secret",
    "refresh_token",
    "email",
    "A_VAR",
]
shaped = st.dictionaries(st.sampled_from(FIELDS), json_values, max_size=6)
bodies = st.one_of(
    shaped.map(lambda value: json.dumps(value).encode()),
    json_values.map(lambda value: json.dumps(value).encode()),
    st.binary(max_size=64),
    st.integers(min_value=1, max_value=5000).map(lambda depth: b"[" * depth + b"]" * depth),
    st.integers(min_value=1, max_value=5000).map(
        lambda depth: b'{"a":' * depth + b"1" + b"}" * depth
    ),
)

ROUTES = [
    ("POST", "/apps"),
    ("PATCH", "/apps/{app}"),
    ("PATCH", "/apps/{app}/config-vars"),
    ("POST", "/apps/{app}/collaborators"),
    ("POST", "/apps/{app}/addons"),
    ("PATCH", "/account"),
    ("POST", "/oauth/authorizations"),
    ("POST", "/oauth/clients"),
    ("POST", "/oauth/tokens"),
    ("POST", "/auth"),
]


class _App:
    """The application on an event loop of its own thread, with an account and an app."""

    def __init__(self, data_dir: Path) -> None:
        self.settings = load_settings(data_dir=data_dir, rate_limit_capacity=100_000)
        upgrade(self.settings.effective_database_url)
        self.factory = Factory(data_dir)
        self.key = self.factory.account("fuzz").api_key
        self.app = create_app(self.settings)
        self.loop = asyncio.new_event_loop()
        self.thread = threading.Thread(target=self.loop.run_forever, daemon=True)
        self.thread.start()
        created = self.request("POST", "/apps", json.dumps({"name": "fuzzed-app"}).encode())
        assert created.status_code == 201, created.text

    def request(self, method: str, path: str, body: bytes) -> httpx.Response:
        async def call() -> httpx.Response:
            transport = httpx.ASGITransport(app=self.app, client=("127.0.0.1", 5000))
            async with httpx.AsyncClient(
                transport=transport, base_url="http://127.0.0.1"
            ) as client:
                return await client.request(
                    method,
                    path,
                    content=body,
                    headers={
                        **API_HEADERS,
                        "Authorization": f"Bearer {self.key}",
                        "Content-Type": "application/json",
                    },
                )

        return asyncio.run_coroutine_threadsafe(call(), self.loop).result(timeout=30)

    def close(self) -> None:
        self.loop.call_soon_threadsafe(self.loop.stop)
        self.thread.join(timeout=10)
        self.loop.close()
        self.factory.close()
        self.app.state.services.database.dispose()


@pytest.fixture(scope="module")
def running(tmp_path_factory: pytest.TempPathFactory) -> Iterator[_App]:
    made = _App(tmp_path_factory.mktemp("fuzz"))
    yield made
    made.close()


@pytest.mark.parametrize(("method", "path"), ROUTES)
@settings(
    max_examples=60,
    deadline=None,
    suppress_health_check=[HealthCheck.function_scoped_fixture, HealthCheck.too_slow],
)
@given(body=bodies)
def test_no_body_gives_a_server_error(running: _App, method: str, path: str, body: bytes) -> None:
    response = running.request(method, path.format(app="fuzzed-app"), body)
    assert response.status_code < 500, (response.status_code, body[:200], response.text[:300])
    if response.status_code >= 400:
        error: dict[str, Any] = response.json()
        assert isinstance(error.get("id"), str)
        assert isinstance(error.get("message"), str)
