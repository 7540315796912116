"""The browser session and CSRF protection of the login, consent and device pages: each attack
tried and refused."""

from __future__ import annotations

import httpx

from ostiary.accounts.models import LoginSession
from tests.support.factories import Factory, UserAccount
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


def _signed_in(browser: OAuthBrowser, user: UserAccount) -> str:
    """Sign in through the login page; the session cookie."""
    fields = hidden_fields(browser.client.get("/login").text)
    signed_in = browser.client.post(
        "/login", data={**fields, "email": user.email, "password": browser.password}
    )
    assert signed_in.status_code == 303
    return str(browser.client.cookies["ostiary_session"])


def _session_live(factory: Factory, cookie: str) -> bool:
    """Whether the cookie's session is still open on the server (an ended one keeps its row,
    marked ended)."""
    session_id, _, _ = cookie.partition(".")
    with factory.database.unit_of_work(write=False) as session:
        login = session.get(LoginSession, session_id)
        return login is not None and login.ended_at is None


def test_a_forged_logout_changes_nothing(
    tls_factory: Factory, user: UserAccount, browser: OAuthBrowser
) -> None:
    """A page elsewhere posting to /logout (with the cookies a browser might send, but no way to
    know the form's token) neither ends the session nor clears the cookie."""
    cookie = _signed_in(browser, user)
    for token in ("", "forged"):
        forged = browser.client.post("/logout", data={"csrf_token": token})
        assert forged.status_code == 403
        assert "ostiary_session" not in forged.headers.get("set-cookie", "")
        assert "you are still signed in" in forged.text
    assert _session_live(tls_factory, cookie)
    assert browser.client.get("/dashboard/account").status_code == 200
    # The refusal page offers a real sign-out, which works.
    confirmed = browser.client.post("/logout", data=hidden_fields(forged.text))
    assert confirmed.status_code == 303
    assert not _session_live(tls_factory, cookie)


def test_logout_ends_the_session_on_the_server(
    tls_factory: Factory, user: UserAccount, browser: OAuthBrowser
) -> None:
    cookie = _signed_in(browser, user)
    account_page = browser.client.get("/dashboard/account")
    assert account_page.status_code == 200
    logged_out = browser.client.post(
        "/logout", data={"csrf_token": hidden_fields(account_page.text)["csrf_token"]}
    )
    assert logged_out.status_code == 303
    assert logged_out.headers["location"] == "/login"
    assert not _session_live(tls_factory, cookie)
    # Replaying the old cookie (as a thief who copied it would) does not get in.
    browser.client.cookies.set("ostiary_session", cookie, domain="localhost")
    replayed = browser.client.get("/dashboard/account")
    assert replayed.status_code == 303
    assert replayed.headers["location"].startswith("/login?")
