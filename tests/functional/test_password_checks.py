"""Every password check spends one budget per account and per address (issue 10, items 2-3).

The server believes ``X-Forwarded-For`` from 127.0.0.1 here, so a test can speak from several
addresses; its budget is three failures per account a minute.
"""

from __future__ import annotations

import concurrent.futures
from collections.abc import Iterator
from datetime import timedelta

import httpx
import pytest
from sqlalchemy import update

from ostiary.accounts.models import LoginSession
from ostiary.clock import utcnow
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import hidden_fields
from tests.support.server import API_HEADERS, ServerProcess, start_server, trusting

ATTACKER = "203.0.113.5"
OWNER = "198.51.100.7"


@pytest.fixture(scope="module")
def guarded(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("passwords"),
        tls=True,
        settings={
            "OSTIARY_AUTH_FAILURE_LIMIT": "3",
            "OSTIARY_AUTH_FAILURE_WINDOW": "60",
            "OSTIARY_TRUSTED_PROXIES": "127.0.0.1",
        },
    )
    yield server
    server.stop()


@pytest.fixture
def person(guarded: ServerProcess) -> Iterator[tuple[UserAccount, Factory]]:
    factory = Factory(guarded.data_dir)
    yield factory.account("guessed"), factory
    factory.close()


def _from(server: ServerProcess, address: str) -> httpx.Client:
    return httpx.Client(
        base_url=f"https://localhost:{server.port}",
        headers={"X-Forwarded-For": address, "X-Forwarded-Proto": "https"},
        verify=trusting(server.cert_path),
        follow_redirects=False,
        timeout=30,
    )


def _api_login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    return client.post(
        "/oauth/authorizations", headers=API_HEADERS, auth=(email, password), json={}
    )


def _signed_in_long_ago(factory: Factory, user: UserAccount) -> None:
    """Make the user's sessions older than the dashboard's recent-authentication window."""
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(LoginSession)
            .where(LoginSession.account_id == user.id)
            .values(authenticated_at=utcnow() - timedelta(minutes=6))
        )


def _page_login(client: httpx.Client, email: str, password: str) -> httpx.Response:
    fields = hidden_fields(client.get("/login").text)
    return client.post("/login", data={**fields, "email": email, "password": password})


def test_every_sign_in_path_spends_the_same_budget_of_the_account_as_looked_up(
    guarded: ServerProcess, person: tuple[UserAccount, Factory]
) -> None:
    user, _ = person
    with _from(guarded, ATTACKER) as attacker:
        # The same account however its email is typed: case and surrounding spaces.
        assert _api_login(attacker, f"  {user.email.upper()} ", "guess one").status_code == 401
        assert _api_login(attacker, user.email + "   ", "guess two").status_code == 401
        assert _page_login(attacker, user.email.title(), "guess three").status_code == 401
        # The budget is spent: even the right password is refused before it is checked.
        locked = _api_login(attacker, user.email, PASSWORD)
        assert locked.status_code == 429
        assert locked.json()["id"] == "rate_limit"
        assert int(locked.headers["Retry-After"]) >= 1
        assert _page_login(attacker, user.email, PASSWORD).status_code == 429
    # The owner, from an address with a clean record, still gets in.
    with _from(guarded, OWNER) as owner:
        assert _api_login(owner, user.email, PASSWORD).status_code == 201
        assert _page_login(owner, user.email, PASSWORD).status_code == 303


def test_the_dashboards_password_confirmations_spend_it_too(
    guarded: ServerProcess, person: tuple[UserAccount, Factory]
) -> None:
    user, factory = person
    with _from(guarded, ATTACKER) as browser:
        assert _page_login(browser, user.email, PASSWORD).status_code == 303
        _signed_in_long_ago(factory, user)
        for guess in ("guess one", "guess two", "guess three"):
            form = hidden_fields(browser.get("/dashboard/api-key").text)
            answer = browser.post("/dashboard/api-key/reveal", data={**form, "password": guess})
            assert answer.status_code == 303
            assert "/dashboard/api-key" in answer.headers["location"]
        # The change-password form is refused before the (right) password is even checked.
        form = hidden_fields(browser.get("/dashboard/account").text)
        refused = browser.post(
            "/dashboard/account/password",
            data={
                **form,
                "current_password": PASSWORD,
                "new_password": "a different passphrase",
                "new_password_confirmation": "a different passphrase",
            },
        )
        assert "Too many attempts" in browser.get(refused.headers["location"]).text
        assert _api_login(browser, user.email, PASSWORD).status_code == 429
    with _from(guarded, OWNER) as owner:  # the password was not changed
        assert _api_login(owner, user.email, PASSWORD).status_code == 201


def test_a_flood_beyond_the_password_pool_is_refused_with_429(
    tmp_path_factory: pytest.TempPathFactory,
) -> None:
    server = start_server(
        tmp_path_factory.mktemp("pool"),
        settings={
            "OSTIARY_PASSWORD_THREADS": "1",
            "OSTIARY_PASSWORD_QUEUE": "1",
            "OSTIARY_AUTH_FAILURE_IP_LIMIT": "1000",
        },
    )
    try:

        def attempt(n: int) -> httpx.Response:
            with server.client() as api:
                return api.post(
                    "/oauth/authorizations", auth=(f"nobody{n}@example.com", "guess"), json={}
                )

        with concurrent.futures.ThreadPoolExecutor(16) as pool:
            answers = list(pool.map(attempt, range(16)))
        statuses = sorted(answer.status_code for answer in answers)
        assert set(statuses) == {401, 429}, statuses
        busy = next(answer for answer in answers if answer.status_code == 429)
        assert busy.json()["id"] == "rate_limit"
        assert busy.headers["Retry-After"] == "1"
        with server.client() as api:
            assert api.get("/health").status_code == 200
    finally:
        server.stop()


def test_global_or_never_expiring_dashboard_tokens_need_a_recent_password(
    guarded: ServerProcess, person: tuple[UserAccount, Factory]
) -> None:
    user, factory = person
    with _from(guarded, OWNER) as browser:
        assert _page_login(browser, user.email, PASSWORD).status_code == 303
        _signed_in_long_ago(factory, user)

        def create(scope: str, days: str, **extra: str) -> str:
            form = hidden_fields(browser.get("/dashboard/tokens").text)
            answer = browser.post(
                "/dashboard/tokens",
                data={
                    **form,
                    "description": f"{scope} {days}",
                    "scope": scope,
                    "expires_in_days": days,
                    **extra,
                },
            )
            if answer.status_code == 303:
                return browser.get(answer.headers["location"]).text
            return answer.text

        assert "Enter your current password" in create("global", "30")
        assert "Enter your current password" in create("read", "")
        assert "shown this once" in create("read", "30")
        assert "shown this once" in create("global", "", password=PASSWORD)
    with guarded.client(user.api_key) as api:
        made = {a["description"] for a in api.get("/oauth/authorizations").json()}
    assert made == {"read 30", "global"}


def test_concurrent_guesses_cannot_outrun_the_budget(
    guarded: ServerProcess, person: tuple[UserAccount, Factory]
) -> None:
    user, _ = person

    def burst(address: str) -> list[int]:
        def guess(number: int) -> int:
            with _from(guarded, address) as client:
                return _api_login(client, user.email, f"guess {number}").status_code

        with concurrent.futures.ThreadPoolExecutor(10) as pool:
            return list(pool.map(guess, range(10)))

    first = burst(ATTACKER)
    # Each attempt is charged before its hash runs: three checked at most, the rest refused.
    assert first.count(401) <= 3, first
    assert set(first) <= {401, 429}
    # The account is now locked against addresses with a record; a clean one gets one guess.
    second = burst("203.0.113.77")
    assert second.count(401) <= 1, second
    with _from(guarded, OWNER) as owner:
        assert _api_login(owner, user.email, PASSWORD).status_code == 201


def test_a_client_credentials_application_needs_a_recent_password(
    guarded: ServerProcess, person: tuple[UserAccount, Factory]
) -> None:
    user, factory = person
    with _from(guarded, OWNER) as browser:
        assert _page_login(browser, user.email, PASSWORD).status_code == 303
        _signed_in_long_ago(factory, user)

        def register(**extra: str) -> httpx.Response:
            form = hidden_fields(browser.get("/dashboard/applications/new").text)
            return browser.post(
                "/dashboard/applications",
                data={
                    **form,
                    "name": "Machine",
                    "redirect_uris": "https://m.example/cb",
                    "client_credentials_scopes": "global",
                    **extra,
                },
            )

        refused = register()
        assert refused.status_code == 303
        assert "Enter your current password" in browser.get(refused.headers["location"]).text
        assert "shown this once" in register(password=PASSWORD).text
    with guarded.client(user.api_key) as api:
        assert [c["name"] for c in api.get("/oauth/clients").json()] == ["Machine"]
