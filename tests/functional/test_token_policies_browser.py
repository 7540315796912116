"""Token policies on the paths a browser drives, through a real HTTPS server whose tokens live
at most 30 days: the dashboard's token creation (refused over the limit with the policy's
message, accepted at it, "Never" given the maximum), an OAuth grant given the maximum, and the
dashboard's policy page (the policy in force, made stricter behind a recent password)."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import timedelta

import pytest
from sqlalchemy import update

from ostiary.accounts.models import LoginSession
from ostiary.clock import utcnow
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import OAuthBrowser, hidden_fields, register, token_request
from tests.support.server import ServerProcess, start_server

DAY = 86400


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("policy-browser"),
        tls=True,
        settings={"OSTIARY_TOKEN_MAX_LIFETIME": "30d"},
    )
    yield server
    server.stop()


@pytest.fixture
def user(tls_server: ServerProcess) -> Iterator[UserAccount]:
    made = Factory(tls_server.data_dir)
    yield made.account("policy-browser")
    made.close()


@pytest.fixture
def browser(tls_server: ServerProcess, user: UserAccount) -> Iterator[OAuthBrowser]:
    made = OAuthBrowser(tls_server, user.email)
    page = made.client.get("/login")
    signed_in = made.client.post(
        "/login", data={**hidden_fields(page.text), "email": user.email, "password": PASSWORD}
    )
    assert signed_in.status_code == 303, signed_in.text
    yield made
    made.close()


def _dashboard_create(browser: OAuthBrowser, days: str, description: str) -> str:
    form = hidden_fields(browser.client.get("/dashboard/tokens").text)
    answer = browser.client.post(
        "/dashboard/tokens",
        data={
            **form,
            "description": description,
            "scope": "read",
            "expires_in_days": days,
            "password": PASSWORD,
        },
    )
    if answer.status_code == 303:
        return browser.client.get(answer.headers["location"]).text
    return answer.text


def _expires_in(server: ServerProcess, api_key: str, description: str) -> int:
    with server.client(api_key) as api:
        listed = api.get("/oauth/authorizations").json()
    found = next(a for a in listed if a["description"] == description)
    return int(found["access_token"]["expires_in"])


def test_dashboard_refuses_a_token_over_the_maximum(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    page = _dashboard_create(browser, "90", "ninety")
    assert "expires_in is over the longest lifetime this account allows, 30 days" in page
    assert "OSTIARY_TOKEN_MAX_LIFETIME" in page
    with tls_server.client(user.api_key) as api:
        listed = api.get("/oauth/authorizations").json()
    assert all(a["description"] != "ninety" for a in listed)


def test_dashboard_accepts_exactly_the_maximum_and_gives_never_the_maximum(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    assert "shown this once" in _dashboard_create(browser, "30", "thirty")
    assert 30 * DAY - 60 <= _expires_in(tls_server, user.api_key, "thirty") <= 30 * DAY
    assert "shown this once" in _dashboard_create(browser, "", "never")
    assert 30 * DAY - 60 <= _expires_in(tls_server, user.api_key, "never") <= 30 * DAY


def test_an_oauth_grant_lives_at_most_the_maximum(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    client = register(tls_server, user.api_key)
    code = browser.code_for(response_type="code", client_id=client["id"], scope="read")["code"]
    tokens = token_request(
        tls_server,
        {"grant_type": "authorization_code", "code": code},
        auth=(client["id"], client["secret"]),
    )
    assert tokens.status_code == 200, tokens.text
    with tls_server.client(user.api_key) as api:
        listed = api.get("/oauth/authorizations").json()
    grant = next(a for a in listed if a["client"] and a["client"]["id"] == client["id"])
    assert 30 * DAY - 60 <= grant["refresh_token"]["expires_in"] <= 30 * DAY


def _save_policy(browser: OAuthBrowser, **fields: str) -> str:
    form = hidden_fields(browser.client.get("/dashboard/token-policy").text)
    answer = browser.client.post("/dashboard/token-policy", data={**form, **fields})
    if answer.status_code == 303:
        return browser.client.get(answer.headers["location"]).text
    return answer.text


def test_dashboard_policy_page_shows_the_policy_and_makes_it_stricter(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    page = browser.client.get("/dashboard/token-policy").text
    assert "30 days" in page
    assert "the server&#39;s" in page or "the server's" in page
    saved = _save_policy(
        browser,
        max_lifetime="7d",
        forbid_non_expiring="yes",
        limit_non_expiring_scopes="yes",
        non_expiring_scopes="read",
        password=PASSWORD,
    )
    assert "Your token policy was saved." in saved
    assert "1 week" in saved
    with tls_server.client(user.api_key) as api:
        policy = api.get("/account/token-policy").json()
        assert policy["max_lifetime"] == {"value": 7 * DAY, "source": "account"}
        assert policy["allow_non_expiring"] == {"value": False, "source": "account"}
        assert policy["non_expiring_scopes"]["value"] == ["read"]
        refused = api.post("/oauth/authorizations", json={"expires_in": 7 * DAY + 1})
    assert refused.status_code == 422


def test_dashboard_refuses_a_policy_weaker_than_the_servers(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    page = _save_policy(browser, max_lifetime="31d", password=PASSWORD)
    assert "max_lifetime cannot be weaker than the server" in page
    assert "30 days (OSTIARY_TOKEN_MAX_LIFETIME)" in page
    with tls_server.client(user.api_key) as api:
        assert api.get("/account/token-policy").json()["max_lifetime"]["source"] == "server"


def test_dashboard_policy_form_needs_its_csrf_token(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    answer = browser.client.post(
        "/dashboard/token-policy", data={"max_lifetime": "1d", "password": PASSWORD}
    )
    assert answer.status_code == 303
    assert "Your form expired" in browser.client.get(answer.headers["location"]).text
    with tls_server.client(user.api_key) as api:
        assert api.get("/account/token-policy").json()["max_lifetime"]["source"] == "server"


def test_dashboard_marks_a_token_made_before_the_policy_out_of_policy(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    made = Factory(tls_server.data_dir)
    try:
        made.token(user, ["read"])  # no expiry: made before the 30-day limit, as it were
    finally:
        made.close()
    assert "shown this once" in _dashboard_create(browser, "7", "within")
    page = browser.client.get("/dashboard/tokens").text
    rows = {row.split("</a>")[0].rsplit(">", 1)[-1]: row for row in page.split("<tr")[1:]}
    assert "out of policy" in rows["test token"]
    assert "out of policy" not in rows["within"]


def test_dashboard_policy_change_needs_a_recent_password(
    tls_server: ServerProcess, user: UserAccount, browser: OAuthBrowser
) -> None:
    made = Factory(tls_server.data_dir)
    try:
        with made.database.unit_of_work(write=True) as session:
            session.execute(
                update(LoginSession)
                .where(LoginSession.account_id == user.id)
                .values(authenticated_at=utcnow() - timedelta(minutes=6))
            )
    finally:
        made.close()
    page = _save_policy(browser, max_lifetime="1d")
    assert "Enter your current password" in page
    with tls_server.client(user.api_key) as api:
        assert api.get("/account/token-policy").json()["max_lifetime"]["source"] == "server"
    assert "Your token policy was saved." in _save_policy(
        browser, max_lifetime="1d", password=PASSWORD
    )
