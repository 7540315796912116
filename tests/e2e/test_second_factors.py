"""Two-factor authentication in headless Chromium, as a user sets it up: the QR code drawn on
the page (an SVG image the page's CSP allows, no script), the secret typed into an
"authenticator" (computed here from the secret the page shows), the ten recovery codes shown
once; then signing out and in again, with the password and then the code."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from ostiary.clock import utcnow
from ostiary.second_factors.rules import code_at, time_step
from tests.e2e.conftest import SCREENSHOTS
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.server import ServerProcess, start_server


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(tmp_path_factory.mktemp("two-factor-e2e"), tls=True)
    yield server
    server.stop()


@pytest.fixture
def user(tls_server: ServerProcess) -> Iterator[UserAccount]:
    made = Factory(tls_server.data_dir)
    yield made.account("two-factor")
    made.close()


def _password(page: Any, server: ServerProcess, email: str, target: str) -> None:
    page.goto(f"{server.url}{target}")
    page.wait_for_url("**/login?**")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")


def test_enrol_by_qr_code_then_sign_in_with_the_code(
    page: Any, tls_server: ServerProcess, user: UserAccount
) -> None:
    _password(page, tls_server, user.email, "/dashboard/two-factor")
    page.wait_for_url("**/dashboard/two-factor")
    page.click("text=Set up an authenticator app")
    qr = page.locator("#totp-qr")
    qr.wait_for()
    # The image is drawn (an SVG data: URI the CSP's img-src allows), not blocked.
    assert qr.evaluate("img => img.complete && img.naturalWidth > 0")
    assert qr.get_attribute("src").startswith("data:image/svg+xml")
    secret = page.inner_text("#totp-secret").strip()
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "two-factor-enrolment.png"), full_page=True)

    step = time_step(utcnow())
    page.fill("#confirm-code", code_at(secret, step))
    page.click("text=Confirm")
    codes = page.locator("#recovery-codes li")
    codes.first.wait_for()
    assert codes.count() == 10
    assert page.console_errors == []

    page.goto(f"{tls_server.url}/dashboard/two-factor")
    assert page.locator("#recovery-codes").count() == 0  # shown once
    assert "10 of 10 recovery codes left" in page.inner_text("#recovery-left")

    page.click("form.signout button")
    page.wait_for_url("**/login")
    _password(page, tls_server, user.email, "/dashboard/sessions")
    page.wait_for_url("**/login/second-factor")
    page.fill("#code", code_at(secret, step + 1))  # the app's next code: the last one is spent
    page.click("text=Verify")
    page.wait_for_url("**/dashboard/sessions")
    assert "Browser login (totp)" in page.inner_text("main")
    assert page.console_errors == []
