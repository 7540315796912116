"""The authorization server records what a security team would look for."""

from __future__ import annotations

import sqlite3

import httpx

from tests.support.factories import UserAccount
from tests.support.oauth_flow import OAuthBrowser, hidden_fields, register, token_request
from tests.support.server import ServerProcess, trusting


def _actions(server: ServerProcess, account_id: str | None) -> list[str]:
    with sqlite3.connect(server.data_dir / "ostiary.db") as db:
        rows = db.execute("SELECT action FROM events WHERE actor_id IS ?", (account_id,)).fetchall()
    return [row[0] for row in rows]


def test_flow_events(tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser) -> None:
    page = browser.client.get("/login")
    browser.client.post(
        "/login", data={**hidden_fields(page.text), "email": user.email, "password": "nope nope"}
    )
    client = register(tls_server, user.api_key)
    auth = (client["id"], client["secret"])
    code = browser.code_for(response_type="code", client_id=client["id"], scope="read")["code"]
    tokens = token_request(
        tls_server, {"grant_type": "authorization_code", "code": code}, auth=auth
    ).json()
    first = tokens["refresh_token"]
    second = token_request(
        tls_server, {"grant_type": "refresh_token", "refresh_token": first}, auth=auth
    ).json()
    third = token_request(
        tls_server,
        {"grant_type": "refresh_token", "refresh_token": second["refresh_token"]},
        auth=auth,
    ).json()
    token_request(
        tls_server, {"grant_type": "refresh_token", "refresh_token": first}, auth=auth
    )  # reuse
    httpx.post(
        f"https://localhost:{tls_server.port}/oauth/revoke",
        data={"token": third["access_token"]},
        auth=auth,
        verify=trusting(tls_server.cert_path),
    )
    actions = _actions(tls_server, user.id)
    for expected in [
        "auth:password:failure",
        "auth:password:success",
        "oauth:consent:grant",
        "oauth:token:issue",
        "oauth:token:refresh",
        "oauth:refresh:reuse-detected",
        "oauth:token:revoke",
    ]:
        assert expected in actions, expected
