"""RFC 8252 section 7.3 (loopback redirect URIs): only the port may vary, and only to a port
number. Each test tries an attack a loose parser lets through and shows it refused, at
registration and at the authorization endpoint."""

from __future__ import annotations

import pytest

from tests.support.factories import UserAccount
from tests.support.oauth_flow import OAuthBrowser, pkce_pair, register
from tests.support.server import ServerProcess

REGISTERED = "http://127.0.0.1/cb"

# What each requested URI tries; every one names the loopback host somewhere.
ATTACKS = {
    "userinfo": "http://user@127.0.0.1:49152/cb",
    "user and password": "http://user:pass@127.0.0.1:49152/cb",
    "userinfo hiding another host": "http://127.0.0.1:49152@evil.example/cb",
    "port 0": "http://127.0.0.1:0/cb",
    "port 65536": "http://127.0.0.1:65536/cb",
    "huge port": "http://127.0.0.1:99999999999/cb",
    "non-numeric port": "http://127.0.0.1:http/cb",
    "signed port": "http://127.0.0.1:+8080/cb",
    "empty port": "http://127.0.0.1:/cb",
    "backslash": "http://127.0.0.1:49152\\@evil.example/cb",
    "space in port": "http://127.0.0.1: 49152/cb",
    "another path": "http://127.0.0.1:49152/cb/../evil",
    "a query": "http://127.0.0.1:49152/cb?next=https://evil.example",
    "localhost instead of the IP literal": "http://localhost:49152/cb",
    "https instead of http": "https://127.0.0.1:49152/cb",
}


@pytest.fixture
def loopback_client(tls_server: ServerProcess, user: UserAccount) -> dict[str, str]:
    client: dict[str, str] = register(
        tls_server, user.api_key, redirect_uri=REGISTERED, client_type="public"
    )
    return client


def _authorize(browser: OAuthBrowser, client: dict[str, str], redirect_uri: str) -> int:
    _, challenge = pkce_pair()
    response = browser.authorize(
        response_type="code",
        client_id=client["id"],
        redirect_uri=redirect_uri,
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert "location" not in response.headers or not response.headers["location"].startswith(
        redirect_uri
    )
    return response.status_code


@pytest.mark.parametrize("attack", sorted(ATTACKS))
def test_loopback_uri_only_varies_by_port(
    attack: str, browser: OAuthBrowser, loopback_client: dict[str, str]
) -> None:
    assert _authorize(browser, loopback_client, ATTACKS[attack]) == 400


@pytest.mark.parametrize("port", ["1", "49152", "65535"])
def test_any_valid_port_is_accepted(
    port: str, browser: OAuthBrowser, loopback_client: dict[str, str]
) -> None:
    _, challenge = pkce_pair()
    answer = browser.code_for(
        response_type="code",
        client_id=loopback_client["id"],
        redirect_uri=f"http://127.0.0.1:{port}/cb",
        code_challenge=challenge,
        code_challenge_method="S256",
    )
    assert "code" in answer


@pytest.mark.parametrize(
    "uri",
    [
        "http://user@127.0.0.1/cb",
        "http://127.0.0.1:0/cb",
        "http://127.0.0.1:65536/cb",
        "http://127.0.0.1:abc/cb",
        "http://[::1]:70000/cb",
        "https://app.example.com@evil.example/cb",
        "https://app.example.com:x/cb",
        "https://app.example.com/c b",
    ],
)
def test_registration_refuses_userinfo_and_bad_ports(
    uri: str, tls_server: ServerProcess, user: UserAccount
) -> None:
    with tls_server.client(user.api_key) as api:
        response = api.post(
            "/oauth/clients",
            json={"name": "Loopback", "redirect_uri": uri, "client_type": "public"},
        )
    assert response.status_code == 422, response.text
    assert response.json()["id"] == "invalid_params"
