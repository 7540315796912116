"""RFC 8628 (device authorization): rule R39 of docs/oauth-server-rules.md, and the heroku CLI's
browser login built on it."""

from __future__ import annotations

import re
import threading
import time
from typing import Any

import httpx

from ostiary.oauth2.rfc8628 import USER_CODE_ALPHABET
from tests.support.factories import UserAccount
from tests.support.oauth_flow import (
    OAuthBrowser,
    api_status,
    device_approve,
    device_poll,
    device_start,
    hidden_fields,
    register,
)
from tests.support.server import ServerProcess, trusting


def test_r39_codes_and_polling_until_approved(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key, client_type="public")
    started = device_start(tls_server, client)
    assert re.fullmatch(
        f"[{USER_CODE_ALPHABET}]{{4}}-[{USER_CODE_ALPHABET}]{{4}}", started["user_code"]
    )
    assert len(started["device_code"]) >= 36
    assert started["interval"] == 5
    assert started["verification_uri"].endswith("/device")
    assert (
        device_poll(tls_server, client, started["device_code"]).json()["error"]
        == "authorization_pending"
    )
    entry = browser.log_in(
        browser.client.get("/device", params={"user_code": started["user_code"]})
    )
    shown = browser.client.post(
        "/device", data={**hidden_fields(entry.text), "user_code": started["user_code"].lower()}
    )
    assert "Example App" in shown.text  # the page names the client
    decided = browser.client.post(
        "/device", data={**hidden_fields(shown.text), "decision": "allow"}
    )
    assert decided.status_code == 303
    tokens = device_poll(tls_server, client, started["device_code"])
    assert tokens.status_code == 200
    assert tokens.json()["scope"] == "read"
    assert api_status(tls_server, tokens.json()["access_token"], "/apps") == 200
    again = device_poll(tls_server, client, started["device_code"])
    assert again.json()["error"] == "expired_token"  # tokens come once


def test_r39_polling_too_fast_slows_down_for_good(
    tls_server: ServerProcess, user: UserAccount
) -> None:
    client = register(tls_server, user.api_key, client_type="public")
    started = device_start(tls_server, client)
    errors = [
        device_poll(tls_server, client, started["device_code"]).json()["error"] for _ in range(3)
    ]
    assert errors == ["authorization_pending", "slow_down", "slow_down"]


def test_r39_denied(tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser) -> None:
    client = register(tls_server, user.api_key, client_type="public")
    started = device_start(tls_server, client)
    assert device_approve(browser, started["user_code"], "deny").status_code == 303
    assert (
        device_poll(tls_server, client, started["device_code"]).json()["error"] == "access_denied"
    )


def test_r39_device_code_belongs_to_its_client(
    tls_server: ServerProcess, user: UserAccount
) -> None:
    client, other = (
        register(tls_server, user.api_key, client_type="public"),
        register(tls_server, user.api_key, client_type="public"),
    )
    started = device_start(tls_server, client)
    response = device_poll(tls_server, other, started["device_code"])
    assert response.json()["error"] == "invalid_grant"


def test_r39_wrong_user_codes_are_throttled(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    entry = browser.log_in(browser.client.get("/device"))
    fields = hidden_fields(entry.text)
    statuses = [
        browser.client.post("/device", data={**fields, "user_code": "BCDF-GHJK"}).status_code
        for _ in range(7)
    ]
    assert statuses[0] == 400
    assert 429 in statuses


def test_heroku_cli_browser_login(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    base = f"https://localhost:{tls_server.port}"
    verify = trusting(tls_server.cert_path)
    urls = httpx.post(
        f"{base}/auth", json={"description": "Heroku CLI login from laptop"}, verify=verify
    ).json()
    assert set(urls) == {"browser_url", "cli_url", "token"}
    result: dict[str, Any] = {}

    def long_poll() -> None:
        response = httpx.get(
            base + urls["cli_url"],
            headers={"Authorization": f"Bearer {urls['token']}"},
            verify=verify,
            timeout=60,
        )
        result["status"], result["body"] = response.status_code, response.json()

    waiter = threading.Thread(target=long_poll)
    waiter.start()
    time.sleep(1.5)
    assert waiter.is_alive()  # still waiting for the browser
    page = browser.log_in(browser.client.get(urls["browser_url"]))
    assert "the Heroku CLI" in page.text
    assert "Heroku CLI login from laptop" in page.text
    decided = browser.client.post(
        urls["browser_url"], data={**hidden_fields(page.text), "decision": "allow"}
    )
    assert decided.status_code == 303
    waiter.join(timeout=30)
    assert result["status"] == 200
    token = result["body"]["access_token"]
    assert api_status(tls_server, token) == 200
    with tls_server.client(user.api_key) as api:
        mine = [
            a
            for a in api.get("/oauth/authorizations").json()
            if a["description"] == "Heroku CLI login from laptop"
        ]
    assert mine[0]["scope"] == ["global"]
    assert 365 * 86400 - 60 <= mine[0]["access_token"]["expires_in"] <= 365 * 86400


def test_heroku_cli_login_wrong_token_and_denial(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    base = f"https://localhost:{tls_server.port}"
    verify = trusting(tls_server.cert_path)
    urls = httpx.post(f"{base}/auth", json={"description": "x"}, verify=verify).json()
    wrong = httpx.get(
        base + urls["cli_url"], headers={"Authorization": "Bearer ostg_wrong"}, verify=verify
    )
    assert wrong.status_code == 401
    page = browser.log_in(browser.client.get(urls["browser_url"]))
    browser.client.post(urls["browser_url"], data={**hidden_fields(page.text), "decision": "deny"})
    answer = httpx.get(
        base + urls["cli_url"],
        headers={"Authorization": f"Bearer {urls['token']}"},
        verify=verify,
        timeout=30,
    )
    assert "denied" in answer.json()["error"]
