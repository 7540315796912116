"""RFC 6750 (bearer token usage) and the transport and entropy rules R4, R24, R32 and R33 of
docs/oauth-server-rules.md."""

from __future__ import annotations

import math

import httpx

from ostiary.security.tokens import BASE62, RANDOM_LENGTH
from tests.support.factories import UserAccount
from tests.support.server import API_HEADERS, ServerProcess, trusting


def test_r32_access_token_in_the_query_string_is_refused(
    tls_server: ServerProcess, user: UserAccount
) -> None:
    response = httpx.get(
        f"https://localhost:{tls_server.port}/account",
        params={"access_token": user.api_key},
        headers=API_HEADERS,
        verify=trusting(tls_server.cert_path),
    )
    assert response.status_code == 400
    assert response.json()["id"] == "bad_request"


def test_r24_tokens_carry_at_least_160_random_bits() -> None:
    assert RANDOM_LENGTH * math.log2(len(BASE62)) >= 160


def test_r4_http_redirect_uris_only_on_loopback(
    tls_server: ServerProcess, user: UserAccount
) -> None:
    with tls_server.client(user.api_key) as api:
        refused = api.post(
            "/oauth/clients", json={"name": "x", "redirect_uri": "http://app.example.com/cb"}
        )
        allowed = api.post(
            "/oauth/clients", json={"name": "x", "redirect_uri": "http://127.0.0.1:8000/cb"}
        )
    assert refused.status_code == 422
    assert allowed.status_code == 201


def test_r33_tls_everywhere(tls_server: ServerProcess) -> None:
    response = httpx.get(
        f"https://localhost:{tls_server.port}/health", verify=trusting(tls_server.cert_path)
    )
    assert "strict-transport-security" in response.headers
