"""Second factors on a real server (issue 16): the browser's sign-in asks for the code after the
password, a code works once, recovery codes work once, wrong codes are throttled."""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest
from sqlalchemy import select

from ostiary.events import Event
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import hidden_fields
from tests.support.second_factors import Enrolled, enrol_totp
from tests.support.server import ServerProcess


@pytest.fixture
def browser(server: ServerProcess) -> Iterator[httpx.Client]:
    """A cookie-keeping client that follows no redirect."""
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as client:
        yield client


def _password(browser: httpx.Client, email: str, next_path: str = "/dashboard") -> httpx.Response:
    login = browser.get("/login", params={"next": next_path})
    return browser.post(
        "/login", data={**hidden_fields(login.text), "email": email, "password": PASSWORD}
    )


def _code(browser: httpx.Client, code: str) -> httpx.Response:
    step = browser.get("/login/second-factor")
    assert step.status_code == 200, step.text
    return browser.post("/login/second-factor", data={**hidden_fields(step.text), "code": code})


def _events(factory: Factory, account_id: str, action: str) -> list[Event]:
    with factory.database.unit_of_work(write=False) as session:
        query = select(Event).where(Event.actor_id == account_id, Event.action == action)
        return list(session.scalars(query))


@pytest.fixture
def enrolled(factory: Factory, account: UserAccount) -> Enrolled:
    """The account with a confirmed authenticator app."""
    return enrol_totp(factory, account)


def test_the_password_alone_opens_no_session(
    browser: httpx.Client, account: UserAccount, enrolled: Enrolled
) -> None:
    answered = _password(browser, account.email)
    assert answered.status_code == 303
    assert answered.headers["location"] == "/login/second-factor"
    assert "ostiary_session" not in browser.cookies
    assert browser.get("/dashboard/account").headers["location"].startswith("/login")


def test_a_current_code_signs_in_and_goes_where_the_user_was_going(
    browser: httpx.Client, factory: Factory, account: UserAccount, enrolled: Enrolled
) -> None:
    _password(browser, account.email, "/dashboard/sessions")
    answered = _code(browser, enrolled.code())
    assert answered.status_code == 303, answered.text
    assert answered.headers["location"] == "/dashboard/sessions"
    page = browser.get("/dashboard/sessions")
    assert page.status_code == 200
    assert "Browser login (totp)" in page.text
    events = _events(factory, account.id, "auth:second-factor:success")
    assert [event.details for event in events] == [{"kind": "totp"}]
    assert enrolled.code() not in str(events[0].details)


def test_a_replayed_code_is_refused(
    browser: httpx.Client,
    server: ServerProcess,
    factory: Factory,
    account: UserAccount,
    enrolled: Enrolled,
) -> None:
    code = enrolled.code()
    _password(browser, account.email)
    assert _code(browser, code).status_code == 303
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as attacker:
        _password(attacker, account.email)
        replayed = _code(attacker, code)
    assert replayed.status_code == 401
    assert "not right" in replayed.text
    assert "ostiary_session" not in replayed.cookies
    failures = _events(factory, account.id, "auth:second-factor:failure")
    assert [event.details for event in failures] == [{"kind": "totp"}]


def test_a_wrong_code_is_refused_and_a_code_outside_the_window_too(
    browser: httpx.Client, account: UserAccount, enrolled: Enrolled
) -> None:
    _password(browser, account.email)
    assert _code(browser, "000000" if enrolled.code() != "000000" else "111111").status_code == 401
    assert _code(browser, enrolled.code(offset=3)).status_code == 401
    assert _code(browser, enrolled.code(offset=-3)).status_code == 401
    assert _code(browser, enrolled.code()).status_code == 303


def test_the_step_needs_the_password_first_and_a_forged_cookie_is_ignored(
    browser: httpx.Client, account: UserAccount, enrolled: Enrolled
) -> None:
    assert browser.get("/login/second-factor").headers["location"] == "/login"
    browser.cookies.set("ostiary_pending_sign_in", f"{account.id}.1.Lw.forged")
    assert browser.get("/login/second-factor").headers["location"] == "/login"
    refused = browser.post("/login/second-factor", data={"code": enrolled.code()})
    assert refused.status_code == 303
    assert refused.headers["location"] == "/login"
    assert "ostiary_session" not in browser.cookies


def test_a_recovery_code_signs_in_once(
    server: ServerProcess, factory: Factory, account: UserAccount, enrolled: Enrolled
) -> None:
    recovery = enrolled.recovery_codes[0]
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as first:
        _password(first, account.email)
        assert _code(first, recovery.upper()).status_code == 303
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as second:
        _password(second, account.email)
        assert _code(second, recovery).status_code == 401
    used = _events(factory, account.id, "account:recovery-codes:use")
    assert [event.details for event in used] == [{"remaining": 9}]


def test_an_account_without_a_factor_signs_in_with_its_password(
    browser: httpx.Client, account: UserAccount
) -> None:
    answered = _password(browser, account.email)
    assert answered.status_code == 303
    assert answered.headers["location"] == "/dashboard"
    assert "ostiary_session" in browser.cookies
