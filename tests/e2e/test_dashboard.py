"""The dashboard in headless Chromium, as its users work it: sign up and log in; the API key
revealed and regenerated (the API refuses the old one); an application registered with its secret
shown exactly once; a token created and revoked; an authorized application revoked; sessions;
apps. Every page is screenshotted (phone width too), every input has a label, no page logs a
console error, and secrets need a recent password."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from ostiary.accounts.models import LoginSession
from ostiary.clock import utcnow
from ostiary.events import Event
from tests.e2e.conftest import SCREENSHOTS
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import OAuthBrowser, register, token_request
from tests.support.server import (
    API_HEADERS,
    PASSWORD_WORK_TIMEOUT,
    ServerProcess,
    start_server,
    trusting,
)

PAGES = [
    "/dashboard/account",
    "/dashboard/api-key",
    "/dashboard/tokens",
    "/dashboard/applications",
    "/dashboard/applications/new",
    "/dashboard/authorized-applications",
    "/dashboard/sessions",
    "/dashboard/apps",
    "/dashboard/alerts",
    "/dashboard/activity",
]


@pytest.fixture(scope="module")
def dashboard_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("dashboard"), tls=True, settings={"OSTIARY_SIGNUP": "open"}
    )
    yield server
    server.stop()


@pytest.fixture
def factory(dashboard_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(dashboard_server.data_dir)
    yield made
    made.close()


@pytest.fixture
def user(factory: Factory) -> UserAccount:
    return factory.account("dashboard")


def _api(server: ServerProcess, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        headers={**API_HEADERS, "Authorization": f"Bearer {token}"},
        verify=trusting(server.cert_path),
    )


def _status(server: ServerProcess, token: str, path: str = "/account") -> int:
    with _api(server, token) as api:
        return api.get(path).status_code


def _log_in(
    page: Any, server: ServerProcess, email: str, target: str = "/dashboard/account"
) -> None:
    page.goto(f"{server.url}{target}")
    page.wait_for_url("**/login?**")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")


def _unlabelled_inputs(page: Any) -> list[str]:
    """Inputs a screen reader could not name."""
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
          .filter(e => e.type !== 'hidden')
          .filter(e => !(e.id && document.querySelector(`label[for="${e.id}"]`))
                       && !e.getAttribute('aria-label') && !e.closest('label'))
          .map(e => e.name || e.outerHTML)"""
    )
    return found


def test_sign_up_shows_the_api_key_once_then_log_out_and_in(
    dashboard_server: ServerProcess, page: Any
) -> None:
    page.goto(f"{dashboard_server.url}/login")
    page.click("text=Create an account")  # sign-up is open on this server
    page.wait_for_url("**/signup")
    assert _unlabelled_inputs(page) == []
    page.fill("#email", "newcomer@example.com")
    page.fill("#name", "New Comer")
    page.fill("#password", PASSWORD)
    page.fill("#password_confirmation", PASSWORD)
    page.click("button[type=submit]")
    key = page.text_content("#api-key").strip()
    assert key.startswith("ostk_")
    assert _status(dashboard_server, key) == 200
    page.click("text=Go to your account")
    page.wait_for_url("**/dashboard/account")
    assert page.input_value("#name") == "New Comer"
    assert key not in page.content()  # shown once
    page.click("button:has-text('Sign out')")
    page.wait_for_url("**/login")
    page.goto(f"{dashboard_server.url}/dashboard/account")
    page.wait_for_url("**/login?next=%2Fdashboard%2Faccount")
    page.fill("#email", "newcomer@example.com")
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/account")
    assert "newcomer@example.com" in page.text_content("header")
    assert page.console_errors == []


def test_reveal_and_regenerate_the_api_key(
    dashboard_server: ServerProcess, page: Any, user: UserAccount
) -> None:
    _log_in(page, dashboard_server, user.email, "/dashboard/api-key")
    assert user.api_key not in page.content()
    page.click("button:has-text('Reveal')")
    revealed = page.text_content("#revealed-key").strip()
    head, tail = revealed.split("*" * 10)
    assert user.api_key.startswith(head)
    assert user.api_key.endswith(tail)
    page.check("#confirm-regenerate")
    page.click("button:has-text('Regenerate API key')")
    new_key = page.text_content("#new-key").strip()
    assert new_key != user.api_key
    assert _status(dashboard_server, user.api_key) == 401  # the API refuses the old key
    assert _status(dashboard_server, new_key) == 200
    page.goto(f"{dashboard_server.url}/dashboard/api-key")
    assert new_key not in page.content()  # shown once
    assert page.console_errors == []


def test_register_an_application_and_see_its_secret_exactly_once(
    dashboard_server: ServerProcess, page: Any, user: UserAccount
) -> None:
    _log_in(page, dashboard_server, user.email, "/dashboard/applications")
    assert "No applications yet" in page.text_content("main")
    page.click("text=Register an application")
    page.fill("#name", "Deploy bot")
    page.fill("#description", "Deploys on merge")
    page.fill("#redirect_uris", "https://bot.example.com/cb\nhttp://127.0.0.1:8000/cb")
    page.check("#cc-read")
    page.click("button:has-text('Register')")
    secret = page.text_content("#client-secret").strip()
    client_id = page.text_content("#client-id").strip()
    assert secret.startswith("ostc_")

    def token_status(client_secret: str) -> int:
        response = httpx.post(
            f"{dashboard_server.url}/oauth/token",
            data={"grant_type": "client_credentials"},
            auth=(client_id, client_secret),
            verify=trusting(dashboard_server.cert_path),
        )
        return response.status_code

    assert token_status(secret) == 200
    page.goto(f"{dashboard_server.url}/dashboard/applications")
    page.click("text=Deploy bot")
    assert secret not in page.content()  # exactly once
    assert "Deploys on merge" in page.text_content("main")
    assert page.input_value("#redirect_uris") == (
        "https://bot.example.com/cb\nhttp://127.0.0.1:8000/cb"
    )
    page.check("#confirm-rotate")
    page.click("button:has-text('Rotate secret')")
    rotated = page.text_content("#client-secret").strip()
    assert rotated != secret
    assert token_status(secret) == 401
    assert token_status(rotated) == 200
    page.click("a:has-text('Delete application')")
    assert "Delete Deploy bot?" in page.text_content("h1")
    page.click("button:has-text('Delete application')")
    page.wait_for_url("**/dashboard/applications")
    assert "Deploy bot was deleted." in page.text_content(".flash")
    assert token_status(rotated) == 401
    assert page.console_errors == []


def test_create_and_revoke_a_token(
    dashboard_server: ServerProcess, page: Any, user: UserAccount
) -> None:
    _log_in(page, dashboard_server, user.email, "/dashboard/tokens")
    page.fill("#description", "CI reader")
    page.check("#scope-read")
    page.select_option("#expires_in_days", "7")
    page.click("button:has-text('Create token')")
    token = page.text_content("#new-token").strip()
    assert _status(dashboard_server, token, "/apps") == 200
    with _api(dashboard_server, token) as api:
        assert api.post("/apps", json={}).status_code == 403  # read only
    row = page.locator("table.tokens tr", has_text="CI reader")
    assert "read" in row.text_content()
    # Made to expire in 7 days, it is listed among what expires soon too.
    assert "CI reader" in page.text_content("table.expiring")
    page.goto(f"{dashboard_server.url}/dashboard/tokens")
    assert token not in page.content()
    page.locator("table.tokens tr", has_text="CI reader").locator(
        "button:has-text('Revoke')"
    ).click()
    page.wait_for_url("**/dashboard/tokens")
    assert "CI reader was revoked." in page.text_content(".flash")
    assert _status(dashboard_server, token, "/apps") == 401
    assert page.console_errors == []


def test_revoke_an_authorized_application(
    dashboard_server: ServerProcess, page: Any, user: UserAccount, factory: Factory
) -> None:
    developer = factory.account("developer")
    client = register(dashboard_server, developer.api_key, name="Photo sync")
    # The user grants it through the consent page, as a person would.
    browser = OAuthBrowser(dashboard_server, user.email)
    try:
        code = browser.code_for(response_type="code", client_id=client["id"], scope="identity")
    finally:
        browser.close()
    granted = token_request(
        dashboard_server,
        {"grant_type": "authorization_code", "code": code["code"]},
        auth=(client["id"], client["secret"]),
    ).json()
    access_token = granted["access_token"]
    assert _status(dashboard_server, access_token) == 200
    _log_in(page, dashboard_server, user.email, "/dashboard/authorized-applications")
    row = page.locator("tr", has_text="Photo sync")
    assert "identity" in row.text_content()
    row.locator("button:has-text('Revoke')").click()
    page.wait_for_url("**/dashboard/authorized-applications")
    assert "Access revoked" in page.text_content(".flash")
    assert _status(dashboard_server, access_token) == 401
    assert "You have not authorized any application" in page.text_content("main")


def test_sign_out_every_other_session(
    dashboard_server: ServerProcess, page: Any, user: UserAccount
) -> None:
    cli_login = httpx.post(  # what `heroku login -i` does: a session and a token through it
        f"{dashboard_server.url}/oauth/authorizations",
        headers=API_HEADERS,
        auth=(user.email, PASSWORD),
        timeout=PASSWORD_WORK_TIMEOUT,
        json={"description": "CLI"},
        verify=trusting(dashboard_server.cert_path),
    )
    cli_token = cli_login.json()["access_token"]["token"]
    _log_in(page, dashboard_server, user.email, "/dashboard/sessions")
    assert page.locator("tbody tr").count() == 2
    assert "(this browser)" in page.text_content("tbody")
    page.click("button:has-text('Sign out every other session')")
    page.wait_for_url("**/dashboard/sessions")
    assert "Signed out 1 other session(s)." in page.text_content(".flash")
    assert page.locator("tbody tr").count() == 1
    assert _status(dashboard_server, cli_token) == 401


def test_apps_with_config_vars_masked_until_revealed(
    dashboard_server: ServerProcess, page: Any, user: UserAccount
) -> None:
    name = f"dash-{user.id[:8]}"
    with _api(dashboard_server, user.api_key) as api:
        assert api.post("/apps", json={"name": name}).status_code == 201
        api.patch(f"/apps/{name}/config-vars", json={"DATABASE_URL": "postgres://secret-value"})
        api.post(f"/apps/{name}/addons", json={"plan": "heroku-redis:mini"})
    _log_in(page, dashboard_server, user.email, "/dashboard/apps")
    page.click(f"text={name}")
    page.wait_for_url(f"**/dashboard/apps/{name}")
    value = page.locator("code", has_text="postgres://secret-value")
    assert not value.is_visible()
    page.click("summary:has-text('Reveal')")
    assert value.is_visible()
    assert "heroku-redis:mini" in page.text_content("main")
    page.goto(f"{dashboard_server.url}/dashboard/apps/no-such-app")
    assert "Couldn't find that app." in page.text_content("main")


def test_secrets_need_a_recent_password(
    dashboard_server: ServerProcess, page: Any, user: UserAccount, factory: Factory
) -> None:
    _log_in(page, dashboard_server, user.email, "/dashboard/api-key")
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(LoginSession)
            .where(LoginSession.account_id == user.id)
            .values(authenticated_at=utcnow() - timedelta(minutes=6))
        )
    page.reload()
    page.check("#confirm-regenerate")
    page.fill("#regenerate-password", "not my password")
    page.click("button:has-text('Regenerate API key')")
    page.wait_for_url("**/dashboard/api-key")
    assert "Enter your current password" in page.text_content(".flash")
    assert _status(dashboard_server, user.api_key) == 200  # unchanged
    page.check("#confirm-regenerate")
    page.fill("#regenerate-password", PASSWORD)
    page.click("button:has-text('Regenerate API key')")
    assert page.text_content("#new-key").startswith("ostk_")
    assert _status(dashboard_server, user.api_key) == 401


def test_a_forged_form_changes_nothing(
    dashboard_server: ServerProcess, page: Any, user: UserAccount
) -> None:
    """A cross-site POST carries the session cookie but cannot know the CSRF token."""
    _log_in(page, dashboard_server, user.email, "/dashboard/api-key")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = httpx.post(
        f"{dashboard_server.url}/dashboard/api-key/regenerate",
        data={"confirm": "yes", "csrf_token": "forged"},
        cookies=cookies,
        verify=trusting(dashboard_server.cert_path),
    )
    assert forged.status_code == 303
    assert _status(dashboard_server, user.api_key) == 200


def test_every_page_labelled_screenshotted_and_secured(
    dashboard_server: ServerProcess, page: Any, user: UserAccount
) -> None:
    _log_in(page, dashboard_server, user.email)
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in PAGES:
        response = page.goto(f"{dashboard_server.url}{path}")
        assert response.status == 200, path
        csp = response.headers["content-security-policy"]
        assert "default-src 'self'" in csp
        assert "frame-ancestors 'none'" in csp
        assert "script-src" not in csp or "'unsafe-inline'" not in csp
        assert page.locator("script:not([src])").count() == 0, path  # no inline script
        assert _unlabelled_inputs(page) == [], path
        slug = re.sub(r"\W+", "-", path.strip("/"))
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-{slug}.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    for path in ("/dashboard/tokens", "/dashboard/applications/new"):
        page.goto(f"{dashboard_server.url}{path}")
        slug = re.sub(r"\W+", "-", path.strip("/"))
        page.screenshot(path=str(SCREENSHOTS / f"dashboard-phone-{slug}.png"), full_page=True)
        width = page.evaluate("document.documentElement.scrollWidth")
        assert width <= 390, f"{path} scrolls sideways on a phone ({width}px)"
    cookie = next(c for c in page.context.cookies() if c["name"] == "ostiary_session")
    assert cookie["httpOnly"]
    assert cookie["secure"]
    assert cookie["sameSite"] == "Lax"
    assert page.console_errors == []


def test_change_name_email_and_password(
    dashboard_server: ServerProcess, page: Any, user: UserAccount, factory: Factory
) -> None:
    _log_in(page, dashboard_server, user.email)
    new_email = "renamed-" + user.email
    page.fill("#name", "Ada L.")
    page.fill("#email", new_email)
    page.click("button:has-text('Save profile')")
    page.wait_for_url("**/dashboard/account")
    assert "Your profile was saved." in page.text_content(".flash")
    with _api(dashboard_server, user.api_key) as api:
        me = api.get("/account").json()
    assert me["email"] == new_email
    assert me["name"] == "Ada L."
    page.fill("#current_password", "wrong password!!")
    page.fill("#new_password", "a brand new passphrase")
    page.fill("#new_password_confirmation", "a brand new passphrase")
    page.click("button:has-text('Change password')")
    assert "The current password is not right." in page.text_content(".flash")
    # Another session (a CLI's password login) and a token made with the API key, both from
    # before the change: the change ends the one and revokes the other.
    cli_login = httpx.post(
        f"{dashboard_server.url}/oauth/authorizations",
        headers=API_HEADERS,
        auth=(new_email, PASSWORD),
        timeout=PASSWORD_WORK_TIMEOUT,
        json={},
        verify=trusting(dashboard_server.cert_path),
    ).json()["access_token"]["token"]
    with _api(dashboard_server, user.api_key) as api:
        child = api.post("/oauth/authorizations", json={"description": "made with the key"})
    child_token = child.json()["access_token"]["token"]
    assert _status(dashboard_server, cli_login) == 200
    assert _status(dashboard_server, child_token) == 200

    page.fill("#current_password", PASSWORD)
    page.fill("#new_password", "a brand new passphrase")
    page.fill("#new_password_confirmation", "a brand new passphrase")
    page.click("button:has-text('Change password')")
    notice = page.text_content("#password-changed-notice") or ""
    assert "every other session was signed out" in notice
    assert "API key was" in notice
    new_key = page.text_content("#new-key") or ""
    assert new_key.startswith("ostk_")
    assert _status(dashboard_server, user.api_key) == 401
    assert _status(dashboard_server, child_token) == 401
    assert _status(dashboard_server, cli_login) == 401
    assert _status(dashboard_server, new_key) == 200
    page.goto(f"{dashboard_server.url}/dashboard/account")  # this browser stays signed in
    assert page.url.endswith("/dashboard/account")
    logged_in = httpx.post(
        f"{dashboard_server.url}/oauth/authorizations",
        headers=API_HEADERS,
        auth=(new_email, "a brand new passphrase"),
        timeout=PASSWORD_WORK_TIMEOUT,
        json={},
        verify=trusting(dashboard_server.cert_path),
    )
    assert logged_in.status_code == 201
    with factory.database.unit_of_work(write=False) as session:
        actions = set(session.scalars(select(Event.action).where(Event.actor_id == user.id)).all())
    assert {
        "account:update",
        "account:email:change",
        "account:password:failure",
        "account:password:change",
    } <= actions


def test_expired_tokens_stay_listed_as_expired(
    dashboard_server: ServerProcess, page: Any, user: UserAccount, factory: Factory
) -> None:
    _, token = factory.token(user, ["read"], expires_at=utcnow() - timedelta(days=1))
    assert _status(dashboard_server, token) == 401
    _log_in(page, dashboard_server, user.email, "/dashboard/tokens")
    row = page.locator("tr", has_text="test token")
    assert "expired" in row.text_content()
    assert row.locator("button:has-text('Rotate')").count() == 0  # nothing to rotate
    row.locator("button:has-text('Revoke')").click()
    page.wait_for_url("**/dashboard/tokens")
    assert page.locator("tr", has_text="test token").count() == 0


def test_another_accounts_things_cannot_be_seen_or_changed(
    dashboard_server: ServerProcess, page: Any, user: UserAccount, factory: Factory
) -> None:
    """A signed-in user who sends another account's ids, with a valid form token of their own,
    changes nothing and learns nothing."""
    victim = factory.account("victim")
    with _api(dashboard_server, victim.api_key) as api:
        client = api.post(
            "/oauth/clients",
            json={
                "name": "Victim app",
                "redirect_uri": "https://v.example/cb",
                "client_credentials_scopes": ["read"],
            },
        ).json()
        token = api.post("/oauth/authorizations", json={"description": "victim"}).json()
    victim_login = httpx.post(
        f"{dashboard_server.url}/oauth/authorizations",
        headers=API_HEADERS,
        auth=(victim.email, PASSWORD),
        timeout=PASSWORD_WORK_TIMEOUT,
        json={},
        verify=trusting(dashboard_server.cert_path),
    ).json()
    _log_in(page, dashboard_server, user.email, "/dashboard/applications")
    response = page.goto(f"{dashboard_server.url}/dashboard/applications/{client['id']}")
    assert response.status == 404
    assert "Victim app" not in page.content()
    csrf = page.input_value("input[name=csrf_token]")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    base = f"{dashboard_server.url}/dashboard"
    with httpx.Client(cookies=cookies, verify=trusting(dashboard_server.cert_path)) as browser:
        for path in (
            f"/applications/{client['id']}/rotate",
            f"/applications/{client['id']}/delete",
            f"/tokens/{token['id']}/revoke",
            f"/sessions/{victim_login['session']['id']}/delete",
            f"/authorized-applications/{client['id']}/revoke",
        ):
            answer = browser.post(base + path, data={"csrf_token": csrf, "confirm": "yes"})
            assert answer.status_code == 303, path
    issued = httpx.post(
        f"{dashboard_server.url}/oauth/token",
        data={"grant_type": "client_credentials"},
        auth=(client["id"], client["secret"]),
        verify=trusting(dashboard_server.cert_path),
    )
    assert issued.status_code == 200  # the client and its secret are untouched
    assert _status(dashboard_server, token["access_token"]["token"]) == 200
    assert _status(dashboard_server, victim_login["access_token"]["token"]) == 200
