"""The dashboard's alerts in headless Chromium: the notice on every page while an alert is
unseen (screenshotted, desktop and phone), the Alerts page's reinstate (with a recent password),
mark seen and policy forms; another account's and a forged form change nothing."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from ostiary.accounts.models import LoginSession
from ostiary.alerts.models import Alert
from ostiary.clock import utcnow
from ostiary.tokens.models import Authorization
from tests.e2e.conftest import SCREENSHOTS
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.server import (
    API_HEADERS,
    PASSWORD_WORK_TIMEOUT,
    ServerProcess,
    start_server,
    trusting,
)


@pytest.fixture(scope="module")
def alerts_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("alerts-dashboard"), tls=True)
    yield server
    server.stop()


@pytest.fixture
def factory(alerts_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(alerts_server.data_dir)
    yield made
    made.close()


@pytest.fixture
def user(factory: Factory) -> UserAccount:
    return factory.account("alerted")


def _api(server: ServerProcess, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        headers={**API_HEADERS, "Authorization": f"Bearer {token}"},
        verify=trusting(server.cert_path),
    )


def _status(server: ServerProcess, token: str) -> int:
    with _api(server, token) as api:
        return api.get("/account").status_code


def _suspended_token(server: ServerProcess, factory: Factory, user: UserAccount) -> tuple[str, str]:
    """A token of ``user`` suspended by a dormant-use alert (the policy asks for it)."""
    with _api(server, user.api_key) as api:
        api.patch("/account/alert-policy", json={"suspend_on": ["dormant-use"]})
    authorization_id, token = factory.token(user, ["global"])
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(Authorization)
            .where(Authorization.id == authorization_id)
            .values(last_used_at=utcnow() - timedelta(days=45))
        )
    assert _status(server, token) == 401
    return authorization_id, token


def _alert_id(factory: Factory, authorization_id: str) -> str:
    with factory.database.unit_of_work(write=False) as session:
        return session.scalars(
            select(Alert.id).where(Alert.authorization_id == authorization_id)
        ).one()


def _log_in(page: Any, server: ServerProcess, email: str, target: str) -> None:
    page.goto(f"{server.url}{target}")
    page.wait_for_url("**/login?**")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")


def _unlabelled_inputs(page: Any) -> list[str]:
    found: list[str] = page.evaluate(
        """() => [...document.querySelectorAll('input, select, textarea')]
          .filter(e => e.type !== 'hidden')
          .filter(e => !(e.id && document.querySelector(`label[for="${e.id}"]`))
                       && !e.getAttribute('aria-label') && !e.closest('label'))
          .map(e => e.name || e.outerHTML)"""
    )
    return found


def test_the_notice_shows_on_every_page_until_the_alert_is_handled(
    alerts_server: ServerProcess, page: Any, user: UserAccount, factory: Factory
) -> None:
    authorization_id, token = _suspended_token(alerts_server, factory, user)
    _log_in(page, alerts_server, user.email, "/dashboard/account")
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    for path in ("/dashboard/account", "/dashboard/tokens", "/dashboard/sessions"):
        page.goto(f"{alerts_server.url}{path}")
        notice = page.locator(".alert-notice")
        assert notice.count() == 1, path
        assert "1 security alert" in notice.text_content()
    page.screenshot(path=str(SCREENSHOTS / "alerts-notice.png"), full_page=True)
    page.click(".alert-notice a")
    page.wait_for_url("**/dashboard/alerts")
    assert page.locator("script:not([src])").count() == 0
    assert _unlabelled_inputs(page) == []
    row = page.locator(f"#alert-{_alert_id(factory, authorization_id)}")
    assert "test token was used after 45 days unused." in row.text_content()
    assert "Suspended by this alert" in row.text_content()
    page.screenshot(path=str(SCREENSHOTS / "alerts-page.png"), full_page=True)
    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    page.screenshot(path=str(SCREENSHOTS / "alerts-phone-page.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the alerts page scrolls sideways on a phone ({width}px)"
    page.set_viewport_size({"width": 1280, "height": 800})

    row.locator("button:has-text('Reinstate')").click()
    page.wait_for_url("**/dashboard/alerts")
    assert "test token was reinstated and works again." in page.text_content(".flash")
    assert page.locator(".alert-notice").count() == 0  # reinstating marked it seen
    assert _status(alerts_server, token) == 200
    assert page.console_errors == []


def test_reinstating_needs_a_recent_password(
    alerts_server: ServerProcess, page: Any, user: UserAccount, factory: Factory
) -> None:
    authorization_id, token = _suspended_token(alerts_server, factory, user)
    _log_in(page, alerts_server, user.email, "/dashboard/alerts")
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(LoginSession)
            .where(LoginSession.account_id == user.id)
            .values(authenticated_at=utcnow() - timedelta(minutes=6))
        )
    page.reload()
    alert_id = _alert_id(factory, authorization_id)
    row = page.locator(f"#alert-{alert_id}")
    row.locator(f"#reinstate-{alert_id}-password").fill("not my password")
    row.locator("button:has-text('Reinstate')").click()
    page.wait_for_url("**/dashboard/alerts")
    assert "Enter your current password" in page.text_content(".flash")
    assert _status(alerts_server, token) == 401
    row = page.locator(f"#alert-{alert_id}")
    row.locator(f"#reinstate-{alert_id}-password").fill(PASSWORD)
    row.locator("button:has-text('Reinstate')").click()
    page.wait_for_url("**/dashboard/alerts")
    assert _status(alerts_server, token) == 200


def test_mark_seen_revoke_and_the_policy_form(
    alerts_server: ServerProcess, page: Any, user: UserAccount, factory: Factory
) -> None:
    authorization_id, token = _suspended_token(alerts_server, factory, user)
    _log_in(page, alerts_server, user.email, "/dashboard/alerts")
    alert_id = _alert_id(factory, authorization_id)
    page.locator(f"#alert-{alert_id}").locator("button:has-text('Mark seen')").click()
    page.wait_for_url("**/dashboard/alerts")
    assert page.locator(".alert-notice").count() == 0
    page.locator(f"#alert-{alert_id}").locator("button:has-text('Revoke')").click()
    page.wait_for_url("**/dashboard/alerts")
    assert "test token was revoked." in page.text_content(".flash")
    assert _status(alerts_server, token) == 401

    page.uncheck("#suspend-dormant-use")
    page.check("#suspend-spike")
    page.check("#suspend-probing")
    assert page.locator("#suspend-dead-credential").count() == 0  # it never suspends
    page.click("button:has-text('Save the policy')")
    page.wait_for_url("**/dashboard/alerts")
    assert "spike, probing" in page.text_content(".flash")
    with _api(alerts_server, user.api_key) as api:
        assert api.get("/account/alert-policy").json() == {"suspend_on": ["spike", "probing"]}


def test_another_account_and_a_forged_form_change_nothing(
    alerts_server: ServerProcess, page: Any, user: UserAccount, factory: Factory
) -> None:
    authorization_id, token = _suspended_token(alerts_server, factory, user)
    alert_id = _alert_id(factory, authorization_id)
    intruder = factory.account("intruder")
    _log_in(page, alerts_server, intruder.email, "/dashboard/alerts")
    assert alert_id not in page.content()
    assert page.locator(".alert-notice").count() == 0
    csrf = page.locator("input[name=csrf_token]").first.get_attribute("value")
    cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    for action in ("reinstate", "seen", "revoke"):
        # The intruder's own valid CSRF token, on the owner's alert.
        answer = httpx.post(
            f"{alerts_server.url}/dashboard/alerts/{alert_id}/{action}",
            data={"csrf_token": csrf, "password": PASSWORD},
            cookies=cookies,
            verify=trusting(alerts_server.cert_path),
            timeout=PASSWORD_WORK_TIMEOUT,  # the password is checked first: argon2
        )
        assert answer.status_code == 303
        flash = answer.cookies.get("ostiary_flash") or ""
        assert re.search(r"find.*alert", httpx.QueryParams(f"m={flash}")["m"]), action
    # The owner's session with a forged CSRF token.
    page.context.clear_cookies()
    _log_in(page, alerts_server, user.email, "/dashboard/alerts")
    owner_cookies = {c["name"]: c["value"] for c in page.context.cookies()}
    forged = httpx.post(
        f"{alerts_server.url}/dashboard/alerts/{alert_id}/reinstate",
        data={"csrf_token": "forged", "password": PASSWORD},
        cookies=owner_cookies,
        verify=trusting(alerts_server.cert_path),
    )
    assert forged.status_code == 303
    assert _status(alerts_server, token) == 401
    assert page.locator(".alert-notice").count() == 1  # still unseen
