"""Over HTTP: the Host header never sets the issuer (issue 10, item 8), request bodies and
config vars are capped (item 5), non-ASCII names list cleanly with Range (item 10)."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from tests.support.factories import UserAccount
from tests.support.server import ServerProcess, start_server

METADATA = "/.well-known/oauth-authorization-server"


def test_a_made_up_host_never_becomes_the_issuer(server: ServerProcess) -> None:
    for path, method in [(METADATA, "GET"), ("/oauth/device/code", "POST"), ("/login", "GET")]:
        response = httpx.request(
            method,
            server.url + path,
            headers={"Host": "evil.example"},
            data={"client_id": "x"} if method == "POST" else None,
        )
        assert response.status_code == 400, path
        assert response.json()["id"] == "bad_request"
        assert "evil.example" not in response.headers.get("location", "")
    loopback = httpx.get(server.url + METADATA, headers={"Host": f"localhost:{server.port}"})
    assert loopback.json()["issuer"] == f"http://localhost:{server.port}"


@pytest.fixture(scope="module")
def named_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    made = start_server(
        tmp_path_factory.mktemp("named"), settings={"OSTIARY_ALLOWED_HOSTS": "id.example.test"}
    )
    yield made
    made.stop()


def test_a_configured_host_is_believed_and_others_are_not(named_server: ServerProcess) -> None:
    believed = httpx.get(named_server.url + METADATA, headers={"Host": "id.example.test"})
    assert believed.status_code == 200
    assert believed.json()["issuer"] == "http://id.example.test"
    refused = httpx.get(named_server.url + METADATA, headers={"Host": "other.example.test"})
    assert refused.status_code == 400


def test_config_vars_are_capped_at_32_kb_per_app(
    server: ServerProcess, account: UserAccount
) -> None:
    with server.client(account.api_key) as api:
        app = api.post("/apps", json={}).json()["name"]
        assert api.patch(f"/apps/{app}/config-vars", json={"A": "x" * 20_000}).status_code == 200
        too_much = api.patch(f"/apps/{app}/config-vars", json={"B": "y" * 13_000})
        assert too_much.status_code == 422
        assert too_much.json()["id"] == "invalid_params"
        assert "32 kB" in too_much.json()["message"]
        assert api.get(f"/apps/{app}/config-vars").json() == {"A": "x" * 20_000}
        versions = [r["version"] for r in api.get(f"/apps/{app}/releases").json()]
        # Replacing a value within the limit, and shrinking, still work.
        assert api.patch(f"/apps/{app}/config-vars", json={"B": "y" * 12_000}).status_code == 200
    assert len(versions) == 2  # the refused change made no release


def test_an_oversize_api_body_is_413_in_the_error_format(
    server: ServerProcess, account: UserAccount
) -> None:
    with server.client(account.api_key) as api:
        response = api.post("/apps", content=b'{"name": "' + b"a" * 2_000_000 + b'"}')
    assert response.status_code == 413
    assert response.json()["id"] == "request_entity_too_large"


def test_non_ascii_client_names_list_with_range(
    server: ServerProcess, account: UserAccount
) -> None:
    names = ["日本 app", "Ünïcödé.app", "line\nbreak", "per%cent"]
    with server.client(account.api_key) as api:
        for name in names:
            created = api.post(
                "/oauth/clients", json={"name": name, "redirect_uri": "https://a.example/cb"}
            )
            assert created.status_code == 201, created.text
        seen: list[str] = []
        headers = {"Range": "name ..; max=1"}
        for _ in range(10):  # follow Next-Range to the end, as the heroku CLI does
            page = api.get("/oauth/clients", headers=headers)
            assert page.status_code in (200, 206)
            assert page.headers["content-range"].isascii()
            seen.extend(client["name"] for client in page.json())
            if page.status_code == 200:
                break
            headers = {"Range": page.headers["next-range"]}
    assert sorted(seen) == sorted(names)
