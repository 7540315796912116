"""Range pagination as the heroku CLI, heroku3 and heroku-client use it."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.factories import UserAccount
from tests.support.server import ServerProcess


@pytest.fixture
def api(server: ServerProcess, account: UserAccount) -> Iterator[httpx.Client]:
    with server.client(account.api_key) as client:
        yield client


@pytest.fixture
def five_apps(api: httpx.Client) -> list[str]:
    import secrets

    prefix = f"p{secrets.token_hex(3)}"
    names = [f"{prefix}-{n}" for n in "abcde"]
    for name in names:
        assert api.post("/apps", json={"name": name}).status_code == 201
    return names


def test_following_next_range_visits_every_item_once_and_stops(
    api: httpx.Client, five_apps: list[str]
) -> None:
    seen: list[str] = []
    range_header = "name ..; max=2"
    statuses = []
    for _ in range(10):
        response = api.get("/apps", headers={"Range": range_header})
        statuses.append(response.status_code)
        seen.extend(app["name"] for app in response.json())
        assert response.headers["accept-ranges"] == "id, name"
        assert response.headers["content-range"].startswith("name ")
        if "next-range" not in response.headers:
            break
        range_header = response.headers["next-range"]
    assert seen == sorted(five_apps)
    assert statuses == [206, 206, 200]


def test_a_full_last_page_has_no_next_range(api: httpx.Client, five_apps: list[str]) -> None:
    response = api.get("/apps", headers={"Range": "name ..; max=5"})
    assert response.status_code == 200
    assert "next-range" not in response.headers
    assert len(response.json()) == 5


def test_descending_order(api: httpx.Client, five_apps: list[str]) -> None:
    response = api.get("/apps", headers={"Range": "name ..; order=desc, max=3"})
    assert [a["name"] for a in response.json()] == sorted(five_apps, reverse=True)[:3]
    assert response.status_code == 206
    assert response.headers["next-range"].endswith("order=desc")


def test_bounded_range(api: httpx.Client, five_apps: list[str]) -> None:
    response = api.get("/apps", headers={"Range": f"name {five_apps[1]}..{five_apps[3]}"})
    assert [a["name"] for a in response.json()] == five_apps[1:4]


@pytest.mark.parametrize("header", ["id ..; ;", "id ..; max=1000", "id ..", "name .."])
def test_client_styles_are_tolerated(api: httpx.Client, five_apps: list[str], header: str) -> None:
    response = api.get("/apps", headers={"Range": header})
    assert response.status_code == 200
    assert {a["name"] for a in response.json()} == set(five_apps)


def test_range_on_writes_is_ignored_as_heroku_client_sends_it(api: httpx.Client) -> None:
    response = api.post("/apps", json={}, headers={"Range": "id ..; max=1000"})
    assert response.status_code == 201


@pytest.mark.parametrize(
    "header",
    [
        "garbage",
        "owner ..",
        "name ..; max=0",
        "name ..; max=1001",
        "name ..; order=up",
        "name ..; color=red",
        "version abc..",
    ],
)
def test_malformed_range_is_400(api: httpx.Client, header: str) -> None:
    response = api.get("/apps", headers={"Range": header})
    assert response.status_code == 400
    assert response.json()["id"] == "bad_request"


def test_default_page_is_200_items(
    api: httpx.Client, server: ServerProcess, account: UserAccount
) -> None:
    app = api.post("/apps").json()["name"]
    for n in range(205):
        api.patch(f"/apps/{app}/config-vars", json={"N": str(n)})
    first = api.get(f"/apps/{app}/releases")
    assert first.status_code == 206
    assert len(first.json()) == 200
    rest = api.get(f"/apps/{app}/releases", headers={"Range": first.headers["next-range"]})
    assert rest.status_code == 200
    assert [r["version"] for r in rest.json()] == list(range(201, 207))
