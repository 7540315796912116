"""On a server that requires a second factor (``OSTIARY_REQUIRE_2FA=true``) and allows three
failures per window: an account without one enrols before anything else, the API's password
login refuses it with ``two_factor_enrollment_required``, the last factor cannot be turned off,
and wrong codes are throttled (429) like passwords."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from ostiary.clock import utcnow
from ostiary.second_factors.rules import code_at, time_step
from tests.support.factories import PASSWORD, Factory
from tests.support.oauth_flow import hidden_fields
from tests.support.second_factors import enrol_totp
from tests.support.server import ServerProcess, start_server

LIMIT = 3


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("require-2fa"),
        settings={
            "OSTIARY_REQUIRE_2FA": "true",
            "OSTIARY_AUTH_FAILURE_LIMIT": str(LIMIT),
            "OSTIARY_SIGNUP": "open",
        },
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def strict_factory(strict_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(strict_server.data_dir)
    yield made
    made.close()


@pytest.fixture
def browser(strict_server: ServerProcess) -> Iterator[httpx.Client]:
    with httpx.Client(base_url=strict_server.url, follow_redirects=False, timeout=30) as client:
        yield client


def _password(browser: httpx.Client, email: str, next_path: str = "/dashboard") -> httpx.Response:
    login = browser.get("/login", params={"next": next_path})
    return browser.post(
        "/login", data={**hidden_fields(login.text), "email": email, "password": PASSWORD}
    )


def test_an_account_without_a_factor_must_enrol_before_anything_else(
    browser: httpx.Client, strict_factory: Factory
) -> None:
    account = strict_factory.account("unenrolled")
    answered = _password(browser, account.email, "/dashboard/tokens")
    assert answered.status_code == 303
    assert answered.headers["location"] == "/dashboard/two-factor?next=%2Fdashboard%2Ftokens"
    for elsewhere in ("/dashboard/account", "/dashboard/api-key", "/device"):
        moved = browser.get(elsewhere)
        assert moved.status_code in (302, 303), elsewhere
        assert moved.headers["location"].startswith("/dashboard/two-factor"), elsewhere
    enrol_page = browser.get(answered.headers["location"])
    assert enrol_page.status_code == 200
    assert "This server requires a second factor" in enrol_page.text
    csrf = hidden_fields(enrol_page.text)["csrf_token"]
    started = browser.post(
        "/dashboard/two-factor/totp", data={"csrf_token": csrf, "next": "/dashboard/tokens"}
    )
    secret = started.text.split('<code id="totp-secret">')[1].split("</code>")[0]
    confirmed = browser.post(
        "/dashboard/two-factor/totp/confirm",
        data={
            "csrf_token": csrf,
            "next": "/dashboard/tokens",
            "code": code_at(secret, time_step(utcnow())),
        },
    )
    assert 'href="/dashboard/tokens"' in confirmed.text  # "Continue" where it was going
    assert browser.get("/dashboard/tokens").status_code == 200


def test_the_api_password_login_points_to_enrolment(
    strict_server: ServerProcess, strict_factory: Factory
) -> None:
    account = strict_factory.account("api-unenrolled")
    with strict_server.client() as api:
        refused = api.post("/oauth/authorizations", auth=(account.email, PASSWORD), json={})
        wrong_password = api.post("/oauth/authorizations", auth=(account.email, "nope"), json={})
    assert refused.status_code == 403
    body = refused.json()
    assert body["id"] == "two_factor_enrollment_required"
    assert f"{strict_server.url}/dashboard/two-factor" in body["message"]
    assert wrong_password.status_code == 401


def test_the_last_factor_cannot_be_turned_off(
    browser: httpx.Client, strict_factory: Factory
) -> None:
    account = strict_factory.account("last-factor")
    enrolled = enrol_totp(strict_factory, account)
    _password(browser, account.email)
    step = browser.get("/login/second-factor")
    browser.post("/login/second-factor", data={**hidden_fields(step.text), "code": enrolled.code()})
    page = browser.get("/dashboard/two-factor")
    assert page.status_code == 200
    refused = browser.post(
        "/dashboard/two-factor/totp/delete",
        data={
            **hidden_fields(page.text),
            "password": PASSWORD,
            "code": enrolled.code(1),
        },
    )
    assert refused.status_code == 303
    assert "add another before removing" in refused.cookies["ostiary_flash"].replace("%20", " ")
    assert "Turn the authenticator app off" in browser.get("/dashboard/two-factor").text


def test_wrong_codes_are_throttled_then_even_the_right_one_waits(
    browser: httpx.Client, strict_server: ServerProcess, strict_factory: Factory
) -> None:
    account = strict_factory.account("guessed")
    enrolled = enrol_totp(strict_factory, account)
    right = enrolled.code()
    wrong = f"{(int(right) + 1) % 1_000_000:06d}"
    _password(browser, account.email)
    step = browser.get("/login/second-factor")
    fields = hidden_fields(step.text)
    statuses = [
        browser.post("/login/second-factor", data={**fields, "code": wrong}).status_code
        for _ in range(LIMIT)
    ]
    assert statuses == [401] * LIMIT
    throttled = browser.post("/login/second-factor", data={**fields, "code": right})
    assert throttled.status_code == 429
    assert int(throttled.headers["retry-after"]) > 0
    assert "ostiary_session" not in browser.cookies
    # The API's password login shares the account's budget.
    with strict_server.client() as api:
        also = api.post(
            "/oauth/authorizations",
            auth=(account.email, PASSWORD),
            headers={"Heroku-Two-Factor-Code": right},
            json={},
        )
    assert also.status_code == 429


def test_sign_up_shows_no_api_key_before_a_factor_is_enrolled(browser: httpx.Client) -> None:
    """Under OSTIARY_REQUIRE_2FA a new account gets no credential before its second factor:
    the welcome page withholds the key it made, and the dashboard sends it to enrolment."""
    fields = hidden_fields(browser.get("/signup").text)
    made = browser.post(
        "/signup",
        data={
            **fields,
            "email": "newcomer@example.com",
            "password": PASSWORD,
            "password_confirmation": PASSWORD,
        },
    )
    assert made.status_code == 200, made.text
    assert "ostk_" not in made.text
    assert 'id="api-key-withheld"' in made.text
    moved = browser.get("/dashboard/api-key")
    assert moved.headers["location"].startswith("/dashboard/two-factor")
