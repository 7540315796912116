"""RFC 7662 (introspection): rule R38 of docs/oauth-server-rules.md."""

from __future__ import annotations

import httpx

from tests.support.factories import UserAccount
from tests.support.oauth_flow import OAuthBrowser, register, token_request
from tests.support.server import ServerProcess, trusting


def _introspect(server: ServerProcess, token: str, auth: tuple[str, str] | None) -> httpx.Response:
    return httpx.post(
        f"https://localhost:{server.port}/oauth/introspect",
        data={"token": token},
        auth=auth,
        verify=trusting(server.cert_path),
    )


def test_r38_active_token_described(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    code = browser.code_for(response_type="code", client_id=client["id"], scope="read")["code"]
    tokens = token_request(
        tls_server,
        {"grant_type": "authorization_code", "code": code},
        auth=(client["id"], client["secret"]),
    ).json()
    body = _introspect(tls_server, tokens["access_token"], (client["id"], client["secret"])).json()
    assert body["active"] is True
    assert body["scope"] == "read"
    assert body["client_id"] == client["id"]
    assert body["username"] == user.email
    assert body["sub"] == user.id
    assert body["token_type"] == "Bearer"
    assert body["exp"] > body["iat"]


def test_r38_callers_must_authenticate(tls_server: ServerProcess, user: UserAccount) -> None:
    assert _introspect(tls_server, user.api_key, None).status_code == 401
    public = register(tls_server, user.api_key, client_type="public")
    response = httpx.post(
        f"https://localhost:{tls_server.port}/oauth/introspect",
        data={"token": user.api_key, "client_id": public["id"]},
        verify=trusting(tls_server.cert_path),
    )
    assert response.status_code == 401


def test_r38_anything_inactive_is_just_inactive(
    tls_server: ServerProcess, user: UserAccount, other_user: UserAccount
) -> None:
    client = register(tls_server, user.api_key)
    auth = (client["id"], client["secret"])
    assert _introspect(tls_server, "osto_garbage", auth).json() == {"active": False}
    with tls_server.client(user.api_key) as api:
        regenerated = api.post("/oauth/authorizations/~/actions/regenerate-tokens").json()
    assert _introspect(tls_server, user.api_key, auth).json() == {"active": False}  # revoked
    assert (
        _introspect(tls_server, regenerated["access_token"]["token"], auth).json()["active"] is True
    )
    # Another account's token is none of this client's business.
    assert _introspect(tls_server, other_user.api_key, auth).json() == {"active": False}


def test_r38_introspection_failures_are_throttled(
    tls_server: ServerProcess, user: UserAccount
) -> None:
    client = register(tls_server, user.api_key)
    statuses = [
        _introspect(tls_server, "x", (client["id"], "ostc_bad")).status_code for _ in range(6)
    ]
    assert statuses[-1] == 429
