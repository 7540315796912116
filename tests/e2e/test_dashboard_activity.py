"""The dashboard's Activity page in headless Chromium: each event a sentence a person reads
("API key regenerated from 203.0.113.5, Firefox on Linux") linking to what it involved, the
API's filters in a GET form, bad filter values answered on the page, another account's events
never shown; screenshotted at desktop and phone width, labelled, no inline script."""

from __future__ import annotations

import secrets
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from tests.e2e.conftest import SCREENSHOTS
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.server import API_HEADERS, ServerProcess, start_server, trusting

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"


@pytest.fixture(scope="module")
def activity_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Loopback is a trusted proxy here, so a test can say which address a request came from.
    server = start_server(
        tmp_path_factory.mktemp("activity"),
        tls=True,
        settings={"OSTIARY_TRUSTED_PROXIES": "127.0.0.1"},
    )
    yield server
    server.stop()


@pytest.fixture
def factory(activity_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(activity_server.data_dir)
    yield made
    made.close()


def _api(server: ServerProcess, token: str, address: str, agent: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        headers={
            **API_HEADERS,
            "Authorization": f"Bearer {token}",
            "X-Forwarded-For": address,
            "User-Agent": agent,
        },
        verify=trusting(server.cert_path),
    )


def _log_in(page: Any, server: ServerProcess, email: str) -> None:
    page.goto(f"{server.url}/dashboard/activity")
    page.wait_for_url("**/login?**")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url("**/dashboard/activity")


def test_activity_reads_as_sentences_with_links_and_filters(
    activity_server: ServerProcess, factory: Factory, page: Any
) -> None:
    user: UserAccount = factory.account("activity")
    other: UserAccount = factory.account("bystander")
    app_name = f"act-{secrets.token_hex(4)}"
    with _api(activity_server, user.api_key, "203.0.113.5", FIREFOX) as api:
        assert api.post("/apps", json={"name": app_name}).status_code == 201
        regenerated = api.post("/oauth/authorizations/~/actions/regenerate-tokens")
        assert regenerated.status_code == 200
    with _api(activity_server, other.api_key, "198.51.100.77", "curl/8.5.0") as api:
        assert api.post("/oauth/authorizations/~/actions/regenerate-tokens").status_code == 200

    _log_in(page, activity_server, user.email)
    rows = page.locator("table.activity tbody tr")
    text = page.text_content("table.activity") or ""
    assert "API key regenerated from 203.0.113.5, Firefox on Linux" in text
    assert "App created from 203.0.113.5, Firefox on Linux" in text
    assert "198.51.100.77" not in page.content()  # the other account's event
    regenerated_row = rows.filter(has_text="API key regenerated")
    assert regenerated_row.locator("a").get_attribute("href") == "/dashboard/api-key"
    assert "**********" in (regenerated_row.locator("code").text_content() or "")
    app_row = rows.filter(has_text="App created")
    assert app_row.locator("a").get_attribute("href") == f"/dashboard/apps/{app_name}"
    assert user.api_key not in page.content()

    assert page.locator("script:not([src])").count() == 0
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "dashboard-activity.png"), full_page=True)

    page.fill("#action", "app:*")
    page.click("button:has-text('Filter')")
    page.wait_for_url("**action=app%3A*")
    assert page.locator("table.activity tbody tr").count() == 1
    assert "App created" in (page.text_content("table.activity") or "")
    assert page.input_value("#action") == "app:*"  # the form keeps what was asked

    page.fill("#action", "")
    page.fill("#since", "last tuesday")
    page.click("button:has-text('Filter')")
    assert "since must be an RFC 3339 time" in (page.text_content("[role=alert]") or "")

    page.set_viewport_size({"width": 390, "height": 844})
    page.goto(f"{activity_server.url}/dashboard/activity")
    page.screenshot(path=str(SCREENSHOTS / "dashboard-phone-activity.png"), full_page=True)
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the activity page scrolls sideways on a phone ({width}px)"
    # The bad filter's answer is a 422, which Chromium logs; nothing else may be.
    assert [e for e in page.console_errors if "422" not in e] == []
