"""The refusal counters, through the whole application in-process (each needs a setting or a
fault the shared server cannot have): the account rate limit, the failed-authentication
throttle, an unreachable database, and tokens issued by a password login."""

from __future__ import annotations

import base64
import sqlite3
from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import FastAPI
from prometheus_client import REGISTRY

from ostiary.app import create_app
from ostiary.config import load_settings
from ostiary.migrate import upgrade
from ostiary.tokens.records import Principal
from tests.support.factories import PASSWORD, Factory
from tests.support.own_loop import run_in_own_loop

V3 = "application/vnd.heroku+json; version=3"


def _value(name: str, **labels: str) -> float:
    return REGISTRY.get_sample_value(name, labels) or 0.0


def _app(tmp_path: Path, **settings: object) -> tuple[FastAPI, Factory]:
    config = load_settings(data_dir=tmp_path, access_log="off", **settings)
    upgrade(config.effective_database_url)
    return create_app(config), Factory(tmp_path)


def _calls(app: FastAPI, *requests: Callable[[httpx.AsyncClient], Any]) -> list[httpx.Response]:
    async def run() -> list[httpx.Response]:
        transport = httpx.ASGITransport(app=app, client=("127.0.0.1", 5000))
        async with httpx.AsyncClient(transport=transport, base_url="http://127.0.0.1") as api:
            return [await request(api) for request in requests]

    return run_in_own_loop(run)


def test_an_account_over_its_rate_limit_is_counted(tmp_path: Path) -> None:
    app, factory = _app(tmp_path, rate_limit_capacity=2, rate_limit_per_minute=0.001)
    headers = {"Accept": V3, "Authorization": f"Bearer {factory.account().api_key}"}
    before = _value("ostiary_rate_limited_total", limit="account")
    answers = _calls(app, *[lambda api: api.get("/account", headers=headers)] * 4)
    factory.close()
    assert [answer.status_code for answer in answers] == [200, 200, 429, 429]
    assert _value("ostiary_rate_limited_total", limit="account") == before + 2


def test_a_throttled_client_authentication_is_counted(tmp_path: Path) -> None:
    app, factory = _app(tmp_path, auth_failure_limit=2)
    factory.close()
    basic = base64.b64encode(b"no-such-client:wrong").decode()

    def attempt(api: httpx.AsyncClient) -> Any:
        return api.post(
            "/oauth/token",
            data={"grant_type": "client_credentials"},
            headers={"Authorization": f"Basic {basic}"},
        )

    throttled = _value("ostiary_throttled_authentications_total")
    failed = _value("ostiary_auth_failures_total", credential="client", reason="unknown_client")
    answers = _calls(app, attempt, attempt, attempt)
    assert [answer.status_code for answer in answers] == [401, 401, 429]
    assert _value("ostiary_throttled_authentications_total") == throttled + 1
    after = _value("ostiary_auth_failures_total", credential="client", reason="unknown_client")
    assert after == failed + 2


def test_an_unreachable_database_is_counted(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    app, factory = _app(tmp_path)
    headers = {"Accept": V3, "Authorization": f"Bearer {factory.account().api_key}"}
    factory.close()

    def lost(token: str, context: object) -> Principal:
        raise sqlite3.OperationalError("unable to open database file")

    monkeypatch.setattr(app.state.services.authenticator, "authenticate", lost)
    before = _value("ostiary_database_errors_total", kind="unavailable")
    (answer,) = _calls(app, lambda api: api.get("/account", headers=headers))
    assert answer.status_code == 503
    assert _value("ostiary_database_errors_total", kind="unavailable") == before + 1


def test_a_password_login_token_is_counted(tmp_path: Path) -> None:
    app, factory = _app(tmp_path)
    account = factory.account()
    factory.close()
    basic = base64.b64encode(f"{account.email}:{PASSWORD}".encode()).decode()
    before = _value("ostiary_tokens_issued_total", grant="password")
    (answer,) = _calls(
        app,
        lambda api: api.post(
            "/oauth/authorizations", headers={"Accept": V3, "Authorization": f"Basic {basic}"}
        ),
    )
    assert answer.status_code == 201, answer.text
    assert _value("ostiary_tokens_issued_total", grant="password") == before + 1
