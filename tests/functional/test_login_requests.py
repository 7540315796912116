"""Consent phishing through the heroku CLI's browser login (issue 10, item 4), tried and refused.

Anyone may ``POST /auth`` with a description of their choice and send the approval link to a
victim. The approval page shows where and when the request was made and quotes the description
as the requester's claim; an unapproved request expires after five minutes; ``POST /auth`` and
``POST /oauth/device/code`` are rate-limited per address. Addresses come from ``X-Forwarded-For``
(the server trusts 127.0.0.1 as its proxy), as they would behind a real proxy.
"""

from __future__ import annotations

import html
import re
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import httpx
import pytest
from sqlalchemy import func, select

from ostiary.accounts.models import Account
from ostiary.tokens.models import DeviceAuthorization
from tests.support.factories import Factory, UserAccount
from tests.support.oauth_flow import OAuthBrowser, hidden_fields, register
from tests.support.server import PASSWORD_WORK_TIMEOUT, ServerProcess, start_server, trusting

LIMIT = 3
PHISH = "Security check required by your administrator"


@pytest.fixture(scope="module")
def proxied_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("login-requests"),
        tls=True,
        settings={
            "OSTIARY_TRUSTED_PROXIES": "127.0.0.1",
            "OSTIARY_LOGIN_REQUEST_LIMIT": str(LIMIT),
        },
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def proxied_factory(proxied_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(proxied_server.data_dir)
    yield made
    made.close()


@pytest.fixture
def victim(proxied_factory: Factory) -> UserAccount:
    return proxied_factory.account("victim")


@pytest.fixture
def victim_browser(proxied_server: ServerProcess, victim: UserAccount) -> Iterator[OAuthBrowser]:
    made = OAuthBrowser(proxied_server, victim.email)
    yield made
    made.close()


_next_address = iter(range(1, 250))


def fresh_address() -> str:
    """An address with a full budget (documentation range, RFC 5737)."""
    return f"203.0.113.{next(_next_address)}"


def start_cli_login(
    server: ServerProcess, address: str, description: str = PHISH
) -> httpx.Response:
    return httpx.post(
        f"https://localhost:{server.port}/auth",
        json={"description": description},
        headers={"X-Forwarded-For": address},
        verify=trusting(server.cert_path),
    )


def start_device(server: ServerProcess, client_id: str, address: str) -> httpx.Response:
    return httpx.post(
        f"https://localhost:{server.port}/oauth/device/code",
        data={"client_id": client_id, "scope": "read"},
        headers={"X-Forwarded-For": address},
        verify=trusting(server.cert_path),
    )


def poll_cli(server: ServerProcess, urls: dict[str, Any]) -> dict[str, Any]:
    answer = httpx.get(
        f"https://localhost:{server.port}{urls['cli_url']}",
        headers={"Authorization": f"Bearer {urls['token']}"},
        verify=trusting(server.cert_path),
        timeout=30,
    )
    body: dict[str, Any] = answer.json()
    return body


def age_request(factory: Factory, login_id: str, by: timedelta) -> None:
    """Move a pending login back in time, as if it had been made ``by`` earlier."""
    with factory.database.unit_of_work(write=True) as session:
        row = session.get(DeviceAuthorization, login_id)
        assert row is not None
        row.created_at -= by
        row.expires_at -= by


def login_id_of(urls: dict[str, Any]) -> str:
    return str(urls["cli_url"]).rsplit("/", 1)[1]


def visible_text(page: str) -> str:
    return html.unescape(re.sub(r"<[^>]+>", "", page))


def test_the_approval_page_shows_origin_and_age_and_quotes_the_claim(
    proxied_server: ServerProcess, proxied_factory: Factory, victim_browser: OAuthBrowser
) -> None:
    attacker = fresh_address()
    urls = start_cli_login(proxied_server, attacker, f"<b>{PHISH}</b>").json()
    page = victim_browser.log_in(victim_browser.client.get(urls["browser_url"]))
    assert page.status_code == 200
    text = visible_text(page.text)
    # Where it came from, and where the victim is: a stranger's address stands out.
    assert f"from {attacker}; you are visiting from 127.0.0.1" in text
    assert re.search(r"Requested (just now|\d+ seconds ago) from", text)
    # The description is quoted, labelled as the requester's claim, and escaped.
    claim = re.search(r'<div class="claim">(.*?)</div>', page.text, re.S)
    assert claim is not None
    assert "What the requesting program says about itself" in claim.group(1)
    assert f"&ldquo;&lt;b&gt;{PHISH}&lt;/b&gt;&rdquo;" in claim.group(1)
    assert f"<b>{PHISH}</b>" not in page.text
    # Nowhere else does the page speak those words: not in the heading, not in the sentence
    # that says who asks.
    outside = page.text.replace(claim.group(0), "")
    assert PHISH not in html.unescape(outside)
    assert "if someone sent you this link, deny it" in text

    age_request(proxied_factory, login_id_of(urls), timedelta(minutes=3))
    later = visible_text(victim_browser.client.get(urls["browser_url"]).text)
    assert f"Requested 3 minutes ago from {attacker}" in later


def test_the_device_approval_page_shows_origin_too(
    proxied_server: ServerProcess, victim: UserAccount, victim_browser: OAuthBrowser
) -> None:
    client = register(proxied_server, victim.api_key, client_type="public")
    attacker = fresh_address()
    started = start_device(proxied_server, client["id"], attacker).json()
    entry = victim_browser.log_in(victim_browser.client.get("/device"))
    shown = victim_browser.client.post(
        "/device", data={**hidden_fields(entry.text), "user_code": started["user_code"]}
    )
    text = visible_text(shown.text)
    assert f"from {attacker}; you are visiting from 127.0.0.1" in text
    assert f"your device shows {started['user_code']}" in text


def test_an_unapproved_cli_login_expires_after_five_minutes(
    proxied_server: ServerProcess, proxied_factory: Factory, victim_browser: OAuthBrowser
) -> None:
    urls = start_cli_login(proxied_server, fresh_address()).json()
    with proxied_factory.database.unit_of_work(write=False) as session:
        row = session.get(DeviceAuthorization, login_id_of(urls))
        assert row is not None
        assert row.expires_at - row.created_at == timedelta(minutes=5)
    page = victim_browser.log_in(victim_browser.client.get(urls["browser_url"]))
    fields = hidden_fields(page.text)
    # The victim opens the link after the five minutes: nothing to approve any more.
    age_request(proxied_factory, login_id_of(urls), timedelta(minutes=5, seconds=1))
    stale = victim_browser.client.get(urls["browser_url"])
    assert stale.status_code == 400
    assert "unknown or has expired" in stale.text
    approved = victim_browser.client.post(urls["browser_url"], data={**fields, "decision": "allow"})
    assert approved.status_code == 400
    assert "expired" in poll_cli(proxied_server, urls)["error"]
    with proxied_factory.database.unit_of_work(write=False) as session:
        row = session.get(DeviceAuthorization, login_id_of(urls))
        assert row is not None
        assert row.account_id is None  # never approved


def test_a_device_code_lives_ten_minutes(
    proxied_server: ServerProcess, proxied_factory: Factory, victim: UserAccount
) -> None:
    client = register(proxied_server, victim.api_key, client_type="public")
    started = start_device(proxied_server, client["id"], fresh_address())
    assert started.json()["expires_in"] == 600


def _rows_from(factory: Factory, address: str) -> int:
    with factory.database.unit_of_work(write=False) as session:
        return int(
            session.scalar(select(func.count()).where(DeviceAuthorization.requester_ip == address))
            or 0
        )


def test_cli_logins_are_rate_limited_per_address(
    proxied_server: ServerProcess, proxied_factory: Factory
) -> None:
    flooder, bystander = fresh_address(), fresh_address()
    statuses = [start_cli_login(proxied_server, flooder).status_code for _ in range(LIMIT)]
    assert statuses == [200] * LIMIT
    refused = start_cli_login(proxied_server, flooder)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    body = refused.json()
    assert body["id"] == "rate_limit"
    assert "Too many login requests from this address" in body["message"]
    assert _rows_from(proxied_factory, flooder) == LIMIT  # the refused one stored nothing
    assert start_cli_login(proxied_server, bystander).status_code == 200  # its own budget


def test_device_codes_are_rate_limited_per_address(
    proxied_server: ServerProcess, proxied_factory: Factory, victim: UserAccount
) -> None:
    client = register(proxied_server, victim.api_key, client_type="public")
    flooder = fresh_address()
    statuses = [start_device(proxied_server, client["id"], flooder).status_code for _ in range(4)]
    assert statuses == [200] * LIMIT + [429]
    refused = start_device(proxied_server, client["id"], flooder)
    assert refused.status_code == 429
    assert int(refused.headers["Retry-After"]) >= 1
    assert refused.headers["Cache-Control"] == "no-store"
    assert refused.json()["error"] == "temporarily_unavailable"  # RFC 6749 section 5.2's shape
    assert "error_description" in refused.json()
    assert _rows_from(proxied_factory, flooder) == LIMIT
    # Both endpoints spend the same budget: a spent address cannot switch to the other one.
    assert start_cli_login(proxied_server, flooder).status_code == 429


def test_an_ipv6_client_cannot_escape_the_limit_by_changing_its_address(
    proxied_server: ServerProcess,
) -> None:
    statuses = [
        start_cli_login(proxied_server, f"2001:db8:0:7::{index:x}").status_code
        for index in range(1, LIMIT + 2)
    ]
    assert statuses == [200] * LIMIT + [429]  # one /64, one budget
    assert start_cli_login(proxied_server, "2001:db8:0:8::1").status_code == 200


def test_open_sign_up_is_limited_per_address(tmp_path_factory: pytest.TempPathFactory) -> None:
    server = start_server(
        tmp_path_factory.mktemp("signup"),
        tls=True,
        settings={
            "OSTIARY_SIGNUP": "open",
            "OSTIARY_TRUSTED_PROXIES": "127.0.0.1",
            "OSTIARY_LOGIN_REQUEST_LIMIT": "2",
        },
    )

    def sign_up(address: str, number: int) -> httpx.Response:
        with httpx.Client(
            base_url=f"https://localhost:{server.port}",
            headers={"X-Forwarded-For": address, "X-Forwarded-Proto": "https"},
            verify=trusting(server.cert_path),
            timeout=PASSWORD_WORK_TIMEOUT,
        ) as browser:
            fields = hidden_fields(browser.get("/signup").text)
            return browser.post(
                "/signup",
                data={
                    **fields,
                    "email": f"signup-{number}-{address}@example.com",
                    "password": "a long enough passphrase",
                    "password_confirmation": "a long enough passphrase",
                },
            )

    try:
        assert [sign_up("203.0.113.9", n).status_code for n in range(2)] == [200, 200]
        refused = sign_up("203.0.113.9", 2)
        assert refused.status_code == 429
        assert int(refused.headers["Retry-After"]) >= 1
        assert "Too many sign-ups from this address" in refused.text
        assert sign_up("198.51.100.4", 3).status_code == 200  # another address is unaffected
        factory = Factory(server.data_dir)
        with factory.database.unit_of_work(write=False) as session:
            emails = set(session.scalars(select(Account.email)).all())
        factory.close()
        assert "signup-2-203.0.113.9@example.com" not in emails
        assert "signup-3-198.51.100.4@example.com" in emails
    finally:
        server.stop()
