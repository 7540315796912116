"""The browser session and CSRF protection of the login, consent and device pages: each attack
tried and refused."""

from __future__ import annotations

import httpx

from tests.support.factories import UserAccount
from tests.support.oauth_flow import OAuthBrowser, hidden_fields, register
from tests.support.server import ServerProcess, trusting


def test_login_without_a_valid_csrf_token_is_refused(
    user: UserAccount, browser: OAuthBrowser
) -> None:
    page = browser.client.get("/login")
    fields = hidden_fields(page.text)
    for token in ("", "forged-token"):
        response = browser.client.post(
            "/login",
            data={**fields, "csrf_token": token, "email": user.email, "password": browser.password},
        )
        assert response.status_code == 400
        assert "ostiary_session" not in response.headers.get("set-cookie", "")


def test_session_cookie_is_httponly_secure_and_lax(
    user: UserAccount, browser: OAuthBrowser
) -> None:
    fields = hidden_fields(browser.client.get("/login").text)
    response = browser.client.post(
        "/login", data={**fields, "email": user.email, "password": browser.password}
    )
    cookie = next(
        c for c in response.headers.get_list("set-cookie") if c.startswith("ostiary_session=")
    )
    attributes = {part.strip().lower() for part in cookie.split(";")}
    assert {"httponly", "secure", "samesite=lax"} <= attributes


def test_a_tampered_session_cookie_signs_nobody_in(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    fields = hidden_fields(browser.client.get("/login").text)
    browser.client.post(
        "/login", data={**fields, "email": user.email, "password": browser.password}
    )
    genuine = browser.client.cookies["ostiary_session"]
    session_id, _, _ = genuine.partition(".")

    def authorize_with(cookie: str) -> int:
        browser.client.cookies.clear()
        browser.client.cookies.set("ostiary_session", cookie)
        response = browser.authorize(response_type="code", client_id=client["id"])
        if response.status_code == 302:
            assert response.headers["location"].startswith("/login?")
        return response.status_code

    assert authorize_with(genuine) == 200  # signed in: the consent page
    for forged in (session_id, f"{session_id}.{'0' * 64}", "not-a-session.abc"):
        assert authorize_with(forged) == 302  # back to the login page


def test_device_approval_needs_its_csrf_token(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    entry = browser.log_in(browser.client.get("/device"))
    response = browser.client.post(
        "/device",
        data={**hidden_fields(entry.text), "csrf_token": "forged", "user_code": "BCDF-GHJK"},
    )
    assert response.status_code == 400
    urls = httpx.post(
        f"https://localhost:{tls_server.port}/auth",
        json={"description": "x"},
        verify=trusting(tls_server.cert_path),
    ).json()
    page = browser.client.get(urls["browser_url"])
    forged = browser.client.post(
        urls["browser_url"],
        data={**hidden_fields(page.text), "csrf_token": "forged", "decision": "allow"},
    )
    assert forged.status_code == 400
    # The forged approval changed nothing: the login is still pending, so a real Deny works.
    denied = browser.client.post(
        urls["browser_url"], data={**hidden_fields(page.text), "decision": "deny"}
    )
    assert denied.status_code == 303
    answer = httpx.get(
        f"https://localhost:{tls_server.port}{urls['cli_url']}",
        headers={"Authorization": f"Bearer {urls['token']}"},
        verify=trusting(tls_server.cert_path),
        timeout=30,
    )
    assert "denied" in answer.json()["error"]
