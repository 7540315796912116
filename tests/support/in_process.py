"""Requests to an ASGI application in-process, on an event loop of their own
(``tests.support.own_loop``), from the loopback address the conventions middleware believes:
one at a time (:func:`send`), or as an account owning OAuth clients (:class:`InProcessServer`)."""

from __future__ import annotations

from typing import Any

import httpx
from starlette.types import ASGIApp

from tests.support.factories import Factory
from tests.support.own_loop import run_in_own_loop

V3 = "application/vnd.heroku+json; version=3"


def send(app: ASGIApp, method: str, path: str, **kwargs: Any) -> httpx.Response:
    """``app``'s answer to ``method path`` (``kwargs`` as httpx's ``request`` takes them)."""

    async def call() -> httpx.Response:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as client:
            return await client.request(method, path, **kwargs)

    return run_in_own_loop(call, timeout=30)


class InProcessServer:
    """The application in-process on a factory's database, and an owner with an API key who
    registers clients and asks for their client-credentials tokens."""

    def __init__(self, app: ASGIApp, factory: Factory) -> None:
        self.app = app
        self.factory = factory
        self.owner = factory.account()

    def send(self, method: str, path: str, **kwargs: Any) -> httpx.Response:
        """The application's answer (:func:`send`)."""
        return send(self.app, method, path, **kwargs)

    def api(self, method: str, path: str, body: object = None) -> httpx.Response:
        """A Platform API request as the owner, with a JSON body."""
        headers = {"Accept": V3, "Authorization": f"Bearer {self.owner.api_key}"}
        return self.send(method, path, headers=headers, json=body)

    def register(self, scopes: list[str]) -> dict[str, str]:
        """A confidential client of the owner's with these client-credentials scopes, as the
        API answered its registration (``id``, ``secret``)."""
        body = {"name": "fleet", "redirect_uri": "https://example.com/cb"}
        created = self.api("POST", "/oauth/clients", {**body, "client_credentials_scopes": scopes})
        assert created.status_code == 201, created.text
        client: dict[str, str] = created.json()
        return client

    def token(self, client_id: str, secret: str, scope: str | None = None) -> httpx.Response:
        """A client credentials grant's answer, the client authenticated by HTTP Basic."""
        form = {"grant_type": "client_credentials", **({"scope": scope} if scope else {})}
        return self.send("POST", "/oauth/token", data=form, auth=(client_id, secret))
