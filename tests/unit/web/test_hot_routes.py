"""The hot routes (``web.hot_routes``) answer exactly as FastAPI's routing would: the same
status, body and headers for success and for every kind of refusal, the same audit events, and
the route's template for the scope checks and the observers."""

from __future__ import annotations

import base64
import json
from pathlib import Path
from typing import Any

import httpx
import pytest
from fastapi import APIRouter, Depends, FastAPI
from sqlalchemy import func, select

import ostiary.app
from ostiary.app import create_app
from ostiary.config import load_settings
from ostiary.events import Event
from ostiary.migrate import upgrade
from ostiary.web.hot_routes import HotRoute, hot_routes
from ostiary.web.observed import ObservedRequest
from tests.support.factories import Factory
from tests.support.in_process import send

V3 = "application/vnd.heroku+json; version=3"
FORM = "application/x-www-form-urlencoded"
# What differs between any two answers: a fresh id, the clock, and the count left in each
# application's own rate-limit pool (the client is made through one of them).
VARYING = {"request-id", "date", "ratelimit-remaining"}


def _send(app: FastAPI, method: str, path: str, **kwargs: Any) -> httpx.Response:
    return send(app, method, path, **kwargs)


def _shape(response: httpx.Response) -> tuple[int, bytes, list[tuple[str, str]]]:
    headers = [(k, v) for k, v in response.headers.multi_items() if k not in VARYING]
    return response.status_code, response.content, headers


@pytest.fixture
def apps(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> tuple[FastAPI, FastAPI, Factory]:
    """The application as served (hot) and as FastAPI alone serves it (cold), on one database."""
    settings = load_settings(data_dir=tmp_path)
    upgrade(settings.effective_database_url)
    hot = create_app(settings)
    monkeypatch.setattr(ostiary.app, "hot_routes", lambda app, routers: {})
    cold = create_app(settings)
    return hot, cold, Factory(tmp_path)


def _events(factory: Factory) -> int:
    with factory.database.unit_of_work(write=False) as session:
        return session.scalar(select(func.count()).select_from(Event)) or 0


CASES: list[tuple[str, str, dict[str, str], bytes]] = [
    ("GET", "/account", {"Accept": V3, "Authorization": "Bearer {key}"}, b""),
    ("GET", "/account", {"Accept": V3, "Authorization": "Bearer ostk_not-a-real-token"}, b""),
    ("GET", "/account", {"Accept": V3}, b""),
    ("GET", "/account", {"Authorization": "Bearer {key}"}, b""),
    ("GET", "/account?access_token=x", {"Accept": V3}, b""),
    ("POST", "/oauth/introspect", {"Content-Type": FORM}, b"token=abc"),
    ("POST", "/oauth/introspect", {"Content-Type": "text/plain"}, b"token=abc"),
    ("POST", "/oauth/introspect", {"Content-Type": FORM, "Authorization": "{basic}"}, b"token=x"),
    ("POST", "/oauth/token", {"Content-Type": FORM}, b"grant_type=password"),
    ("POST", "/oauth/token", {"Content-Type": FORM, "Authorization": "{basic}"}, b"grant_type=x"),
    ("POST", "/oauth/token", {"Content-Type": FORM, "Authorization": "Basic !!"}, b""),
]


@pytest.mark.parametrize(("method", "path", "headers", "body"), CASES)
def test_a_hot_route_answers_as_fastapi_does(
    apps: tuple[FastAPI, FastAPI, Factory],
    method: str,
    path: str,
    headers: dict[str, str],
    body: bytes,
) -> None:
    hot, cold, factory = apps
    key = factory.account().api_key
    created = _send(
        cold,
        "POST",
        "/oauth/clients",
        headers={"Accept": V3, "Authorization": f"Bearer {key}"},
        json={"name": "c", "redirect_uri": "https://example.com/cb"},
    ).json()
    basic = "Basic " + base64.b64encode(f"{created['id']}:{created['secret']}".encode()).decode()
    sent = {name: value.format(key=key, basic=basic) for name, value in headers.items()}
    answers = []
    for app in (hot, cold):
        before = _events(factory)
        response = _send(app, method, path, headers=sent, content=body)
        answers.append((_shape(response), _events(factory) - before))
    assert answers[0] == answers[1]


def test_a_hot_token_request_issues_a_token_as_fastapi_does(
    apps: tuple[FastAPI, FastAPI, Factory],
) -> None:
    hot, cold, factory = apps
    key = factory.account().api_key
    created = _send(
        cold,
        "POST",
        "/oauth/clients",
        headers={"Accept": V3, "Authorization": f"Bearer {key}"},
        json={
            "name": "c",
            "redirect_uri": "https://example.com/cb",
            "client_credentials_scopes": ["identity"],
        },
    ).json()
    basic = "Basic " + base64.b64encode(f"{created['id']}:{created['secret']}".encode()).decode()
    form = {"Content-Type": FORM, "Authorization": basic}
    answers = [
        _send(app, "POST", "/oauth/token", headers=form, content=b"grant_type=client_credentials")
        for app in (hot, cold)
    ]
    assert [a.status_code for a in answers] == [200, 200]
    assert set(answers[0].json()) == set(answers[1].json())
    assert [name for name, _ in _shape(answers[0])[2]] == [
        name for name, _ in _shape(answers[1])[2]
    ]
    token = answers[0].json()["access_token"]
    introspected = [
        _send(app, "POST", "/oauth/introspect", headers=form, content=f"token={token}".encode())
        for app in (hot, cold)
    ]
    assert [json.loads(a.content)["active"] for a in introspected] == [True, True]
    account = _send(
        hot, "GET", "/account", headers={"Accept": V3, "Authorization": f"Bearer {token}"}
    )
    assert account.status_code == 200


def test_observers_see_the_hot_routes_template(tmp_path: Path) -> None:
    seen: list[ObservedRequest] = []
    settings = load_settings(data_dir=tmp_path)
    upgrade(settings.effective_database_url)
    services = ostiary.app.build_services(settings)
    from dataclasses import replace

    app = create_app(settings, replace(services, request_observers=(seen.append,)))
    key = Factory(tmp_path).account().api_key
    _send(app, "GET", "/account", headers={"Accept": V3, "Authorization": f"Bearer {key}"})
    assert [(o.route, o.status) for o in seen] == [("/account", 200)]
    assert seen[0].authorization_id is not None


def test_a_route_that_needs_injection_cannot_be_hot() -> None:
    router = APIRouter()

    async def dependency() -> int:
        return 1

    @router.get("/injected")
    async def injected(value: int = Depends(dependency)) -> dict[str, int]:
        return {"value": value}

    @router.get("/plain")
    async def plain() -> dict[str, int]:
        return {}

    app = FastAPI()
    app.include_router(router)
    with pytest.raises(ValueError, match="injection"):
        hot_routes(app, [router], [("GET", "/injected")])
    with pytest.raises(LookupError):
        hot_routes(app, [router], [("POST", "/plain")])
    assert isinstance(hot_routes(app, [router], [("GET", "/plain")])[("GET", "/plain")], HotRoute)
