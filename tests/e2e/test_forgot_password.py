""" "Forgot password?" in Chromium, end to end: the login page's link, the mailed reset link
(received by a real SMTP server), the new password, and signing in with it."""

from __future__ import annotations

import re
import time
from collections.abc import Iterator
from typing import Any

import pytest

from tests.support.factories import PASSWORD, Factory
from tests.support.server import ServerProcess, start_server
from tests.support.smtp_sink import Sink, smtp_sink

NEW_PASSWORD = "a passphrase chosen in the browser"


@pytest.fixture(scope="module")
def reset_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Sink]]:
    with smtp_sink() as sink:
        server = start_server(
            tmp_path_factory.mktemp("forgot"),
            tls=True,
            settings={
                "OSTIARY_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
                "OSTIARY_MAIL_FROM": "ostiary@example.test",
            },
        )
        try:
            yield server, sink
        finally:
            server.stop()


def _reset_link(sink: Sink, to: str, timeout: float = 15.0) -> str:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for index, message in enumerate(sink.messages):
            if message["To"] == to:
                found = re.search(r"https://\S+/reset-password\?token=[\w-]+", sink.parts(index)[0])
                assert found
                return found.group(0)
        time.sleep(0.1)
    raise AssertionError(f"no reset mail to {to}")


def test_forgot_password_end_to_end(page: Any, reset_server: tuple[ServerProcess, Sink]) -> None:
    server, sink = reset_server
    factory = Factory(server.data_dir)
    try:
        user = factory.account("browser-reset")
    finally:
        factory.close()
    page.goto(f"{server.url}/login")
    page.click("text=Forgot password?")
    page.wait_for_url("**/forgot-password")
    page.fill("#email", user.email)
    page.click("button:has-text('Send the link')")
    assert user.email in (page.text_content("#reset-sent") or "")

    page.goto(_reset_link(sink, user.email))
    assert page.text_content("#reset-email") == user.email
    page.fill("#password", "1234567890qwerty")
    page.fill("#password_confirmation", "1234567890qwerty")
    page.click("button:has-text('Set the new password')")
    assert "commonly used" in (page.text_content("[role=alert]") or "")
    page.fill("#password", NEW_PASSWORD)
    page.fill("#password_confirmation", NEW_PASSWORD)
    page.click("button:has-text('Set the new password')")
    assert "was changed" in (page.text_content("#password-reset-notice") or "")
    assert (page.text_content("#new-key") or "").startswith("ostk_")

    page.click("text=Log in")
    page.fill("#email", user.email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    assert "do not match" in (page.text_content("[role=alert]") or "")
    page.fill("#password", NEW_PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/account")
    # The refusals above answer 422 and 401, which the console reports; nothing else.
    assert [e for e in page.console_errors if "Failed to load resource" not in e] == []
