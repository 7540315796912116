"""Usage on the dashboard, in headless Chromium: a token used from two addresses (a trusted
proxy's headers, from loopback) and three user agents shows exactly those counts, addresses and
agents on its page, drawn as an SVG chart with labelled axes that fits a phone; an authorized
application's page shows its grant's usage; the tokens page lists the busiest credentials; and
no page runs a script. Screenshots go to test-output/screenshots/usage-*.png."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import httpx
import pytest

from ostiary.oauth_clients.models import OAuthClient
from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.tokens.services import issue_access_token
from tests.e2e.conftest import SCREENSHOTS
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.server import API_HEADERS, ServerProcess, start_server, trusting

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
HEROKU = "heroku/10.1.0 linux-x64 node-v20.0.0"
CURL = "curl/8.5.0"


@pytest.fixture(scope="module")
def server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    process = start_server(
        tmp_path_factory.mktemp("usage-dashboard"),
        tls=True,
        settings={"OSTIARY_TRUSTED_PROXIES": "127.0.0.1", "OSTIARY_USAGE_FLUSH_SECONDS": "0.3"},
    )
    yield process
    process.stop()


@pytest.fixture
def factory(server: ServerProcess) -> Iterator[Factory]:
    made = Factory(server.data_dir)
    yield made
    made.close()


def _api(server: ServerProcess, token: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url,
        headers={**API_HEADERS, "Authorization": f"Bearer {token}"},
        verify=trusting(server.cert_path),
    )


def _use(server: ServerProcess, token: str, path: str, address: str, agent: str) -> int:
    with _api(server, token) as api:
        headers = {"X-Forwarded-For": address, "User-Agent": agent}
        return api.get(path, headers=headers).status_code


def _flushed(server: ServerProcess, api_key: str, authorization: str, total: int) -> None:
    deadline = time.monotonic() + 30
    with _api(server, api_key) as api:
        while api.get(f"/oauth/authorizations/{authorization}/usage").json()["total"] < total:
            assert time.monotonic() < deadline, "the usage was not flushed"
            time.sleep(0.2)


def _oauth_grant(factory: Factory, account: UserAccount) -> tuple[str, str, str]:
    """An OAuth client the account authorized: (client id, authorization id, token)."""
    with factory.database.unit_of_work(write=True) as session:
        client = OAuthClient(name="Deploy Bot", redirect_uris=["https://bot.example/cb"])
        session.add(client)
        session.flush()
        grant = Authorization(
            account_id=account.id,
            kind=AuthorizationKind.OAUTH,
            scopes=["identity"],
            client_id=client.id,
        )
        session.add(grant)
        session.flush()
        issued = issue_access_token(factory.unit(session), grant)
        return client.id, grant.id, issued.plaintext


def _log_in(page: Any, server: ServerProcess, email: str, target: str) -> None:
    page.goto(f"{server.url}{target}")
    page.wait_for_url("**/login?**")
    page.fill("#email", email)
    page.fill("#password", PASSWORD)
    page.click("button[type=submit]")
    page.wait_for_url(f"**{target}")


def _table(page: Any, selector: str) -> list[list[str]]:
    rows: list[list[str]] = page.eval_on_selector_all(
        f"{selector} tbody tr",
        "rows => rows.map(r => Array.from(r.cells).map(c => c.innerText.trim()))",
    )
    return rows


def test_a_tokens_page_shows_exactly_its_usage(
    server: ServerProcess, factory: Factory, page: Any
) -> None:
    account = factory.account("usage")
    authorization, token = factory.token(account, ["global"])
    for _ in range(3):
        assert _use(server, token, "/account", "203.0.113.10", HEROKU) == 200
    for _ in range(2):
        assert _use(server, token, "/account", "198.51.100.20", FIREFOX) == 200
    assert _use(server, token, "/apps", "203.0.113.10", CURL) == 200
    assert _use(server, token, "/apps/no-such-app", "203.0.113.10", CURL) == 404
    client_id, grant, grant_token = _oauth_grant(factory, account)
    for _ in range(4):
        assert _use(server, grant_token, "/account", "192.0.2.44", CURL) == 200
    _flushed(server, account.api_key, authorization, 7)
    _flushed(server, account.api_key, grant, 4)

    _log_in(page, server, account.email, f"/dashboard/tokens/{authorization}")
    assert page.locator("script:not([src])").count() == 0
    assert "7 requests" in page.inner_text(".usage")
    chart = page.locator("svg.chart").first
    assert chart.get_attribute("viewBox") == "0 0 540 300"
    assert "Requests per hour" in chart.inner_html()
    assert "Day (UTC)" in chart.inner_html()
    assert "2xx 6 (86%)" in page.locator("svg.chart").nth(1).inner_html()
    assert "4xx 1 (14%)" in page.locator("svg.chart").nth(1).inner_html()
    addresses = {row[0]: row[2] for row in _table(page, "table.addresses")}
    assert addresses == {"203.0.113.10": "5", "198.51.100.20": "2"}
    agents = {row[0].splitlines()[0]: row[2] for row in _table(page, "table.agents")}
    assert agents == {"heroku on Linux": "3", "Firefox on Linux": "2", "curl": "2"}
    SCREENSHOTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(SCREENSHOTS / "usage-token.png"), full_page=True)

    page.set_viewport_size({"width": 390, "height": 844})
    page.reload()
    width = page.evaluate("document.documentElement.scrollWidth")
    assert width <= 390, f"the token page scrolls sideways on a phone ({width}px)"
    box = page.locator("svg.chart").first.bounding_box()
    assert box["width"] <= 390
    page.screenshot(path=str(SCREENSHOTS / "usage-token-phone.png"), full_page=True)
    page.set_viewport_size({"width": 1280, "height": 900})

    page.goto(f"{server.url}/dashboard/authorized-applications/{client_id}")
    assert "Deploy Bot" in page.inner_text("h1")
    assert "4 requests" in page.inner_text(".usage")
    assert {row[0]: row[2] for row in _table(page, "table.addresses")} == {"192.0.2.44": "4"}
    [seen] = [row[1] for row in _table(page, "table.addresses")]
    assert seen.startswith("first ")
    assert "\nlast " in seen
    page.screenshot(path=str(SCREENSHOTS / "usage-authorized-application.png"), full_page=True)

    page.goto(f"{server.url}/dashboard/tokens")
    busiest = _table(page, "table.busiest")
    # The API key read the usage above: it is counted too, as any credential's requests are.
    assert {row[0]: (row[1], row[2]) for row in busiest if row[0] != "API key"} == {
        "test token": ("Token", "7"),
        "Deploy Bot": ("Authorized application", "4"),
    }
    assert [row[0] for row in busiest].count("API key") == 1
    counts = [int(row[2]) for row in busiest]
    assert counts == sorted(counts, reverse=True)
    page.screenshot(path=str(SCREENSHOTS / "usage-tokens-busiest.png"), full_page=True)
    assert page.console_errors == []


def test_another_accounts_credential_page_is_not_found(
    server: ServerProcess, factory: Factory, page: Any
) -> None:
    owner = factory.account("owner")
    authorization, _ = factory.token(owner, ["global"])
    stranger = factory.account("stranger")
    _log_in(page, server, stranger.email, "/dashboard/tokens")
    response = page.goto(f"{server.url}/dashboard/tokens/{authorization}")
    assert response.status == 404
    client_id, _, _ = _oauth_grant(factory, owner)
    response = page.goto(f"{server.url}/dashboard/authorized-applications/{client_id}")
    assert response.status == 404
