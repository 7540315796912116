"""A disabled account gets no new tokens by any grant (docs/account-recovery.md): its
authorization codes and refresh tokens are refused while it is disabled, and work again once it
is enabled (nothing was revoked)."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.factories import UserAccount
from tests.support.oauth_flow import OAuthBrowser, register, token_request
from tests.support.server import ServerProcess, run_cli


def _admin(server: ServerProcess, *args: str) -> None:
    done = run_cli("accounts", *args, env=server.env)
    assert done.returncode == 0, done.stderr


def _code(browser: OAuthBrowser, client: dict[str, Any]) -> str:
    return browser.code_for(response_type="code", client_id=client["id"], state="s", scope="read")[
        "code"
    ]


def _exchange(server: ServerProcess, client: dict[str, Any], code: str) -> httpx.Response:
    return token_request(
        server,
        {"grant_type": "authorization_code", "code": code},
        auth=(client["id"], client["secret"]),
    )


def test_a_disabled_accounts_code_and_refresh_token_are_refused_until_enabled(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    auth = (client["id"], client["secret"])
    tokens = _exchange(tls_server, client, _code(browser, client)).json()
    code = _code(browser, client)

    _admin(tls_server, "disable", user.email)
    refused_code = _exchange(tls_server, client, code)
    assert refused_code.status_code == 400
    assert refused_code.json()["error"] == "invalid_grant"
    refresh = {"grant_type": "refresh_token", "refresh_token": tokens["refresh_token"]}
    refused = token_request(tls_server, refresh, auth=auth)
    assert refused.status_code == 400
    assert refused.json()["error"] == "invalid_grant"

    _admin(tls_server, "enable", user.email)
    assert token_request(tls_server, refresh, auth=auth).status_code == 200


def test_a_disabled_owners_client_gets_no_client_credentials_token_until_enabled(
    tls_server: ServerProcess, user: UserAccount
) -> None:
    client = register(tls_server, user.api_key, client_credentials_scopes=["read"])
    auth = (client["id"], client["secret"])
    grant = {"grant_type": "client_credentials"}
    issued = token_request(tls_server, grant, auth=auth)
    assert issued.status_code == 200, issued.text

    _admin(tls_server, "disable", user.email)
    refused = token_request(tls_server, grant, auth=auth)
    assert refused.status_code == 400
    assert refused.json() == {
        "error": "invalid_grant",
        "error_description": "The account that owns this client is disabled.",
    }
    assert "access_token" not in refused.text

    _admin(tls_server, "enable", user.email)
    assert token_request(tls_server, grant, auth=auth).status_code == 200
