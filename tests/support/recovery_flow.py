"""The recovery flows as a user goes through them, over HTTP, and the mail they receive (an
SMTP sink's messages): shared by the recovery tests on SQLite and PostgreSQL."""

from __future__ import annotations

import re
import time

import httpx

from tests.support.oauth_flow import hidden_fields
from tests.support.server import API_HEADERS, PASSWORD_WORK_TIMEOUT, ServerProcess
from tests.support.smtp_sink import Sink

LINK = re.compile(r"https?://\S+/(?:reset-password|verify-email)\?token=[\w-]+")
# The sending job's interval is a minute in these tests' servers: mail that arrives within this
# was sent because the request woke it (a third of it: a loaded machine is slow, not broken).
PROMPT = 20.0


def mail_to(sink: Sink, address: str, subject: str, timeout: float = PROMPT) -> tuple[str, str]:
    """The text and HTML of the first mail to ``address`` with ``subject`` (waiting for it)."""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        for index, message in enumerate(sink.messages):
            if message["To"] == address and subject in str(message["Subject"]):
                return sink.parts(index)
        time.sleep(0.1)
    raise AssertionError(f"no mail {subject!r} to {address} in {timeout} s")


def subjects_to(sink: Sink, address: str) -> list[str]:
    """The subjects of the mail ``address`` received so far."""
    return [str(m["Subject"]) for m in sink.messages if m["To"] == address]


def link_in(text: str) -> str:
    """The reset or verification link a mail's text carries."""
    found = LINK.search(text)
    assert found, text
    return found.group(0)


def browser_for(server: ServerProcess) -> httpx.Client:
    """A cookie-keeping client that does not follow redirects, as a browser's forms see it."""
    # Its forms sign up and reset passwords: argon2, at nice 19 (PASSWORD_WORK_TIMEOUT).
    return httpx.Client(base_url=server.url, timeout=PASSWORD_WORK_TIMEOUT, follow_redirects=False)


def account_status(server: ServerProcess, token: str) -> int:
    """The status ``GET /account`` answers with this token."""
    with server.client(token) as api:
        return api.get("/account").status_code


def password_login(server: ServerProcess, email: str, password: str) -> httpx.Response:
    """The API's password login (``heroku login -i``'s request)."""
    return httpx.post(
        f"{server.url}/oauth/authorizations",
        headers=API_HEADERS,
        auth=(email, password),
        json={},
        timeout=PASSWORD_WORK_TIMEOUT,  # the server checks the password: argon2, at nice 19
    )


def ask_reset(server: ServerProcess, email: str) -> httpx.Response:
    """Submit "Forgot password?" for ``email``."""
    with browser_for(server) as browser:
        fields = hidden_fields(browser.get("/forgot-password").text)
        return browser.post("/forgot-password", data={**fields, "email": email})


def reset_with(
    server: ServerProcess, link: str, password: str, again: str | None = None
) -> httpx.Response:
    """Open a reset link's form and submit the new password (twice, or ``again``)."""
    path = link[link.index("/reset-password") :]
    with browser_for(server) as browser:
        form = browser.get(path)
        assert form.status_code == 200, form.text
        return browser.post(
            "/reset-password",
            data={
                **hidden_fields(form.text),
                "password": password,
                "password_confirmation": password if again is None else again,
            },
        )
