"""``ostiary.client`` against real servers: typed results, errors by Heroku id, lazy Range
pagination, retries after 429, and the OAuth helpers (code + PKCE + state, refresh before
expiry into an encrypted token store)."""

from __future__ import annotations

import re
import stat
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import parse_qs, urlsplit

import pytest
from cryptography.fernet import Fernet

from ostiary.client import (
    Client,
    ClientError,
    FileTokenStore,
    InsecureURL,
    MemoryTokenStore,
    NotFound,
    OAuthApp,
    OAuthError,
    RateLimited,
    Unauthorized,
)
from tests.support.factories import Factory, UserAccount
from tests.support.oauth_flow import CALLBACK, OAuthBrowser, register
from tests.support.server import NO_REFILL, ServerProcess, start_server

UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$")


def _remaining(api: Client) -> int:
    remaining: int = api.json("GET", "/account/rate-limits")["remaining"]
    return remaining


@pytest.fixture(scope="module")
def unrefilled_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    """A server whose rate-limit pool does not refill during a test: each request counted is
    exactly one less remaining, however slow the machine."""
    server = start_server(tmp_path_factory.mktemp("unrefilled"), settings=NO_REFILL)
    yield server
    server.stop()


class TestApi:
    def test_typed_results(self, server: ServerProcess, account: UserAccount) -> None:
        with Client(server.url, token=account.api_key) as api:
            me = api.account()
            assert me.email == account.email
            app = api.apps.create("lib-typed-" + account.id[:8], region="eu")
            assert app.region == "eu"
            assert app.owner_email == account.email
            assert api.apps.info(app.name) == app
            assert api.config.update(app.name, {"A": "1"}) == {"A": "1"}

    def test_errors_carry_id_message_status_and_request_id(
        self, server: ServerProcess, account: UserAccount
    ) -> None:
        with Client(server.url, token=account.api_key) as api, pytest.raises(NotFound) as missing:
            api.apps.info("no-such-app")
        assert missing.value.id == "not_found"
        assert missing.value.status == 404
        assert missing.value.message == "Couldn't find that app."
        assert missing.value.request_id is not None
        assert UUID.match(missing.value.request_id)
        with Client(server.url, token="osta_notatoken") as api, pytest.raises(Unauthorized):
            api.account()

    def test_lists_are_fetched_a_page_at_a_time(self, unrefilled_server: ServerProcess) -> None:
        factory = Factory(unrefilled_server.data_dir)
        owner = factory.account("pages")
        factory.close()
        with Client(unrefilled_server.url, token=owner.api_key, page_size=2) as api:
            names = sorted(api.apps.create(f"page-{owner.id[:8]}-{n}").name for n in range(5))
            before = _remaining(api)
            listing = api.apps.list()
            first_two = [next(listing).name, next(listing).name]
            assert before - _remaining(api) == 1  # one page fetched so far
            rest = [app.name for app in listing]
            assert before - _remaining(api) == 3  # three pages for five apps
        assert sorted(first_two + rest) == names

    def test_plain_http_is_refused_off_this_machine(self) -> None:
        with pytest.raises(InsecureURL):
            Client("http://example.com", token="x")
        Client("http://127.0.0.1:1", token="x").close()
        Client("http://localhost:1", token="x").close()


@pytest.fixture(scope="module")
def limited_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("limited"),
        settings={"OSTIARY_RATE_LIMIT_CAPACITY": "2", "OSTIARY_RATE_LIMIT_PER_MINUTE": "60"},
    )
    yield server
    server.stop()


def _spend(api: Client, requests: int) -> None:
    for _ in range(requests):
        api.account()


def test_429_is_retried_after_retry_after_a_bounded_number_of_times(
    limited_server: ServerProcess,
) -> None:
    factory = Factory(limited_server.data_dir)
    user = factory.account("limited")
    factory.close()
    waits: list[float] = []

    def sleep(seconds: float) -> None:
        waits.append(seconds)
        import time

        time.sleep(seconds)

    with Client(limited_server.url, token=user.api_key, max_retries=3, sleep=sleep) as api:
        emails = [api.account().email for _ in range(4)]
    assert emails == [user.email] * 4
    assert waits  # the budget of 2 ran out, and the client waited as told
    assert all(wait >= 1 for wait in waits)
    no_retries = Client(limited_server.url, token=user.api_key, max_retries=0)
    with no_retries, pytest.raises(RateLimited) as limited:
        _spend(no_retries, 3)  # more than the budget of 2, and no retry allowed
    assert limited.value.retry_after >= 1
    assert limited.value.status == 429


@pytest.fixture(scope="module")
def tls_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("library-oauth"),
        tls=True,
        settings={"OSTIARY_OAUTH_ACCESS_TOKEN_TTL": "60"},
    )
    yield server
    server.stop()


def _app(server: ServerProcess, user: UserAccount) -> OAuthApp:
    client = register(server, user.api_key)
    return OAuthApp(
        f"https://localhost:{server.port}",
        client["id"],
        client["secret"],
        CALLBACK,
        verify=str(server.cert_path),
    )


def _callback(server: ServerProcess, user: UserAccount, url: str, decision: str) -> str:
    browser = OAuthBrowser(server, user.email)
    try:
        response = browser.client.get(url)
        if response.status_code == 302 and "/login" in response.headers["location"]:
            response = browser.log_in(response)
        if response.status_code == 200:  # the consent page (skipped when already given)
            response = browser.decide(response, decision)
        location: str = response.headers["location"]
        return location
    finally:
        browser.close()


class TestOAuthApp:
    def test_code_with_pkce_and_state_then_refresh_before_expiry(
        self, tls_server: ServerProcess, tmp_path: Path
    ) -> None:
        factory = Factory(tls_server.data_dir)
        user = factory.account("oauth-lib")
        factory.close()
        with _app(tls_server, user) as app:
            self._sign_in_and_refresh(tls_server, user, app, tmp_path)

    def _sign_in_and_refresh(
        self, tls_server: ServerProcess, user: UserAccount, app: OAuthApp, tmp_path: Path
    ) -> None:
        request = app.authorization_request(["identity"])
        query = parse_qs(urlsplit(request.url).query)
        assert query["code_challenge_method"] == ["S256"]
        assert query["state"] == [request.state]
        assert request.code_verifier not in request.url
        tokens = app.exchange(request, _callback(tls_server, user, request.url, "allow"))
        assert tokens.scope == ["identity"]
        assert tokens.refresh_token is not None

        store = FileTokenStore(tmp_path / "tokens", key=Fernet.generate_key())
        store.save(tokens)
        assert tokens.access_token.encode() not in (tmp_path / "tokens").read_bytes()
        assert stat.S_IMODE((tmp_path / "tokens").stat().st_mode) == 0o600
        # The server's access tokens live 60 s, inside the 60 s leeway: every call refreshes.
        with Client(
            f"https://localhost:{tls_server.port}",
            token_store=store,
            oauth=app,
            verify=str(tls_server.cert_path),
        ) as api:
            assert api.account().email == user.email
            refreshed = store.load()
            assert refreshed is not None
            assert refreshed.access_token != tokens.access_token
            assert refreshed.refresh_token != tokens.refresh_token
            assert api.account().email == user.email
        with pytest.raises(OAuthError) as spent:
            app.refresh(tokens)  # the first refresh token was rotated away
        assert spent.value.error == "invalid_grant"

    def test_a_forged_state_and_a_denial_are_errors(self, tls_server: ServerProcess) -> None:
        factory = Factory(tls_server.data_dir)
        user = factory.account("oauth-state")
        factory.close()
        with _app(tls_server, user) as app:
            self._refusals(tls_server, user, app)

    def _refusals(self, tls_server: ServerProcess, user: UserAccount, app: OAuthApp) -> None:
        request = app.authorization_request(["identity"])
        callback = _callback(tls_server, user, request.url, "allow")
        forged = re.sub(r"state=[^&]+", "state=forged", callback)
        with pytest.raises(OAuthError) as state_error:
            app.exchange(request, forged)
        assert state_error.value.error == "invalid_state"
        denied_request = app.authorization_request(["identity"])
        # Consent was given above; prompt=consent asks again, so there is something to deny.
        denied = _callback(tls_server, user, denied_request.url + "&prompt=consent", "deny")
        with pytest.raises(OAuthError) as refusal:
            app.exchange(denied_request, denied)
        assert refusal.value.error == "access_denied"


class TestTokenStores:
    def test_a_file_store_needs_its_key(self, tmp_path: Path) -> None:
        from ostiary.client.oauth import OAuthTokens

        tokens = OAuthTokens("osto_access", "ostr_refresh", None, ["read"])
        FileTokenStore(tmp_path / "t", key=Fernet.generate_key()).save(tokens)
        with pytest.raises(ClientError, match="not encrypted with this key"):
            FileTokenStore(tmp_path / "t", key=Fernet.generate_key()).load()
        assert MemoryTokenStore(tokens).load() == tokens

    def test_a_file_store_takes_its_key_from_the_environment(
        self, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
    ) -> None:
        from ostiary.client.oauth import OAuthTokens

        monkeypatch.setenv("OSTIARY_TOKEN_KEY", Fernet.generate_key().decode())
        tokens = OAuthTokens("osto_a", None, None, [])
        FileTokenStore(tmp_path / "t").save(tokens)
        assert FileTokenStore(tmp_path / "t").load() == tokens
        monkeypatch.setenv("OSTIARY_TOKEN_KEY", "not a key")
        with pytest.raises(ClientError, match="not a Fernet key"):
            FileTokenStore(tmp_path / "t")
