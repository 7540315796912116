"""Second factors on a real server (issue 16): the browser's sign-in asks for the code after the
password, a code works once, recovery codes work once; the dashboard's enrolment, recovery codes,
re-authentication by code and turning it off; the device approval page through the same step;
the API's password login as Heroku answers it (and the client library and ``ostiary login -i``
retrying with the code); the administrator's ``accounts remove-2fa``."""

from __future__ import annotations

import base64
import re
from collections.abc import Iterator
from datetime import datetime, timedelta
from pathlib import Path
from urllib.parse import unquote

import httpx
import pytest
from sqlalchemy import select, update

from ostiary.accounts.models import LoginSession
from ostiary.client import Client
from ostiary.client.errors import TwoFactorRequired
from ostiary.clock import utcnow
from ostiary.events import Event
from ostiary.second_factors.models import RecoveryCode, TotpFactor
from ostiary.second_factors.rules import code_at, time_step
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import hidden_fields
from tests.support.ostiary_cli import OstiaryCLI
from tests.support.second_factors import Enrolled, enrol_totp
from tests.support.server import ServerProcess, run_cli


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
    assert _code(browser, _other_than(enrolled.code())).status_code == 401
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


# --- The dashboard: enrol, recovery codes, re-authentication by code, turning it off ---------


def _signed_in(browser: httpx.Client, account: UserAccount) -> None:
    answered = _password(browser, account.email)
    assert answered.status_code == 303
    assert answered.headers["location"] == "/dashboard"


def _form(browser: httpx.Client, path: str, **fields: str) -> httpx.Response:
    page = browser.get("/dashboard/two-factor")
    csrf = hidden_fields(page.text)["csrf_token"]
    return browser.post(path, data={"csrf_token": csrf, **fields})


def _secret_on(page: str) -> str:
    match = re.search(r'<code id="totp-secret">([A-Z2-7]+)</code>', page)
    assert match is not None, page
    return match.group(1)


def _recovery_codes_on(page: str) -> list[str]:
    return re.findall(r"<li><code>([a-z2-9]{5}-[a-z2-9]{5})</code></li>", page)


def test_enrolling_on_the_dashboard_shows_a_qr_code_then_ten_recovery_codes_once(
    browser: httpx.Client, server: ServerProcess, factory: Factory, account: UserAccount
) -> None:
    _signed_in(browser, account)
    started = _form(browser, "/dashboard/two-factor/totp")
    assert started.status_code == 200, started.text
    assert "default-src 'self'" in started.headers["content-security-policy"]
    assert 'src="data:image/svg+xml' in started.text  # drawn here, no script, no other host
    secret = _secret_on(started.text)
    with server.client(account.api_key) as api:
        assert api.get("/account").json()["two_factor_authentication"] is False

    wrong = _form(browser, "/dashboard/two-factor/totp/confirm", code="000000")
    assert "not right" in wrong.text
    assert _secret_on(wrong.text) == secret  # the same secret, still pending

    confirmed = _form(
        browser, "/dashboard/two-factor/totp/confirm", code=code_at(secret, time_step(utcnow()))
    )
    codes = _recovery_codes_on(confirmed.text)
    assert len(codes) == 10
    assert len(set(codes)) == 10
    again = browser.get("/dashboard/two-factor")
    assert _recovery_codes_on(again.text) == []  # shown once
    assert "10 of 10 recovery codes left" in again.text
    with server.client(account.api_key) as api:
        assert api.get("/account").json()["two_factor_authentication"] is True
    added = _events(factory, account.id, "account:second-factor:add")
    assert [event.details for event in added] == [{"kind": "totp"}]
    # The seed is sealed at rest, and no event holds it or a code.
    with factory.database.unit_of_work(write=False) as session:
        sealed = session.scalars(select(TotpFactor.sealed_secret)).all()
        recorded = [str(event.details) for event in session.scalars(select(Event))]
    assert sealed
    assert all(secret not in value for value in sealed)
    assert not any(secret in text or codes[0] in text for text in recorded)


def test_regenerating_recovery_codes_needs_recent_proof_and_voids_the_old_set(
    server: ServerProcess, factory: Factory, account: UserAccount, enrolled: Enrolled
) -> None:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as browser:
        _password(browser, account.email)
        _code(browser, enrolled.code())
        _stale(factory, account)
        refused = _form(browser, "/dashboard/two-factor/recovery-codes")
        assert _flash(refused) == "Enter your current password to confirm it is you."
        fresh = _form(
            browser, "/dashboard/two-factor/recovery-codes", second_factor_code=enrolled.code(1)
        )
        new_codes = _recovery_codes_on(fresh.text)
        assert len(new_codes) == 10
    assert _events(factory, account.id, "account:recovery-codes:regenerate")
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as old:
        _password(old, account.email)
        assert _code(old, enrolled.recovery_codes[0]).status_code == 401
        assert _code(old, new_codes[0]).status_code == 303


def _other_than(code: str) -> str:
    """A six-digit code that is not ``code``."""
    return f"{(int(code) + 1) % 1_000_000:06d}"


def _flash(response: httpx.Response) -> str:
    """The message a dashboard action left for the page it returns to."""
    assert response.status_code == 303, response.text
    return unquote(response.cookies["ostiary_flash"])


def _stale(factory: Factory, account: UserAccount) -> None:
    """Make the account's sessions' last proof older than five minutes."""
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(LoginSession)
            .where(LoginSession.account_id == account.id)
            .values(authenticated_at=utcnow() - timedelta(minutes=10))
        )


def test_a_current_code_re_authenticates_for_the_api_key_and_a_wrong_one_is_recorded(
    server: ServerProcess, factory: Factory, account: UserAccount, enrolled: Enrolled
) -> None:
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as browser:
        _password(browser, account.email)
        _code(browser, enrolled.code())
        _stale(factory, account)
        page = browser.get("/dashboard/api-key")
        assert 'name="second_factor_code"' in page.text
        csrf = hidden_fields(page.text)["csrf_token"]
        wrong = browser.post(
            "/dashboard/api-key/reveal", data={"csrf_token": csrf, "second_factor_code": "999999"}
        )
        assert wrong.status_code == 303
        assert "revealed-key" not in browser.get("/dashboard/api-key").text
        shown = browser.post(
            "/dashboard/api-key/reveal",
            data={"csrf_token": csrf, "second_factor_code": enrolled.code(1)},
        )
        assert shown.status_code == 200
        assert 'id="revealed-key"' in shown.text
    failures = _events(factory, account.id, "auth:second-factor:failure")
    assert [event.details for event in failures] == [{"kind": "totp"}]


def test_turning_the_app_off_needs_the_password_and_a_current_code(
    browser: httpx.Client,
    server: ServerProcess,
    factory: Factory,
    account: UserAccount,
    enrolled: Enrolled,
) -> None:
    _password(browser, account.email)
    _code(browser, enrolled.code())
    path = "/dashboard/two-factor/totp/delete"
    wrong_code = _other_than(enrolled.code(1))
    refused = [
        _form(browser, path, password=PASSWORD, code=wrong_code),
        _form(browser, path, password="not the password", code=enrolled.code(1)),
        _form(browser, path, code=enrolled.code(1)),  # a recent sign-in is not enough
    ]
    assert [_flash(answer) for answer in refused] == [
        "That code is not right (or was used already).",
        "Enter your current password to confirm it is you.",
        "Enter your password and a current code to turn the app off.",
    ]
    assert "Turn the authenticator app off" in browser.get("/dashboard/two-factor").text
    off = _form(browser, path, password=PASSWORD, code=enrolled.code(1))
    assert off.status_code == 303
    assert "Off." in browser.get("/dashboard/two-factor").text
    removed = _events(factory, account.id, "account:second-factor:remove")
    assert [event.details for event in removed] == [{"kind": "totp", "by": "owner"}]
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as again:
        assert _password(again, account.email).headers["location"] == "/dashboard"


# --- The approval pages go through the same sign-in ------------------------------------------


def test_the_device_approval_page_signs_in_through_the_second_factor(
    browser: httpx.Client, account: UserAccount, enrolled: Enrolled
) -> None:
    first = browser.get("/device", params={"user_code": "ABCD-EFGH"})
    assert first.status_code == 302
    login_path = first.headers["location"]
    assert login_path.startswith("/login?next=")
    login = browser.get(login_path)
    fields = hidden_fields(login.text)
    assert fields["next"] == "/device?user_code=ABCD-EFGH"
    answered = browser.post("/login", data={**fields, "email": account.email, "password": PASSWORD})
    assert answered.headers["location"] == "/login/second-factor"
    assert browser.get("/device").status_code == 302  # no session yet
    signed_in = _code(browser, enrolled.code())
    assert signed_in.headers["location"] == "/device?user_code=ABCD-EFGH"
    page = browser.get(signed_in.headers["location"])
    assert page.status_code == 200
    assert "ABCD-EFGH" in page.text


# --- The API's password login (heroku login -i) -----------------------------------------------


def _password_login(
    server: ServerProcess, email: str, code: str | None = None, password: str = PASSWORD
) -> httpx.Response:
    headers = {"Heroku-Two-Factor-Code": code} if code is not None else {}
    with server.client() as api:
        return api.post(
            "/oauth/authorizations",
            auth=(email, password),
            headers=headers,
            json={"description": "test login", "scope": ["global"]},
        )


def test_the_api_asks_for_the_code_as_heroku_does(
    server: ServerProcess, account: UserAccount, enrolled: Enrolled
) -> None:
    missing = _password_login(server, account.email)
    assert missing.status_code == 403
    assert missing.json()["id"] == "two_factor"
    assert missing.headers["heroku-two-factor-required"] == "true"
    wrong = _password_login(server, account.email, _other_than(enrolled.code()))
    assert wrong.status_code == 403
    assert wrong.json()["id"] == "two_factor"


def test_a_wrong_password_is_401_and_says_nothing_of_the_second_factor(
    server: ServerProcess, account: UserAccount, enrolled: Enrolled
) -> None:
    refused = _password_login(server, account.email, enrolled.code(), password="wrong password")
    assert refused.status_code == 401
    assert refused.json()["id"] == "unauthorized"
    assert "heroku-two-factor-required" not in refused.headers
    assert _password_login(server, account.email, enrolled.code()).status_code == 201  # unspent


def test_the_api_logs_in_with_a_code_or_a_recovery_code_each_once(
    server: ServerProcess, account: UserAccount, enrolled: Enrolled
) -> None:
    code = enrolled.code()
    created = _password_login(server, account.email, code)
    assert created.status_code == 201, created.text
    token = created.json()["access_token"]["token"]
    with server.client(token) as api:
        me = api.get("/account").json()
    assert me["email"] == account.email
    assert me["two_factor_authentication"] is True
    assert _password_login(server, account.email, code).status_code == 403  # replayed
    recovery = enrolled.recovery_codes[1]
    assert _password_login(server, account.email, recovery).status_code == 201
    assert _password_login(server, account.email, recovery).status_code == 403


def test_the_client_library_retries_with_the_code(
    server: ServerProcess, account: UserAccount, enrolled: Enrolled
) -> None:
    with Client(server.url, token=None) as api:
        with pytest.raises(TwoFactorRequired):
            api.authorizations.create(scopes=["global"], auth=(account.email, PASSWORD))
        created = api.authorizations.create(
            scopes=["global"], auth=(account.email, PASSWORD), two_factor_code=enrolled.code()
        )
    assert created.token is not None


def test_ostiary_login_i_prompts_for_the_code(
    server: ServerProcess, account: UserAccount, enrolled: Enrolled, tmp_path: Path
) -> None:
    home = tmp_path / "home"
    home.mkdir()
    cli = OstiaryCLI(server, home)
    code, printed = cli.run_on_terminal(
        ["login", "-i"],
        [("Email", account.email), ("Password", PASSWORD), ("Two-factor code", enrolled.code())],
    )
    assert code == 0, printed
    assert f"Logged in as {account.email}" in printed
    whoami = cli.run("auth:whoami")
    assert whoami.stdout == f"{account.email}\n", whoami.stderr


# --- The administrator's remove-2fa ----------------------------------------------------------


def test_an_administrator_removes_the_factors_of_a_locked_out_user(
    server: ServerProcess, factory: Factory, account: UserAccount, enrolled: Enrolled
) -> None:
    removed = run_cli("accounts", "remove-2fa", account.email.upper(), env=server.env)
    assert removed.returncode == 0, removed.stderr
    assert "totp" in removed.stdout
    assert enrolled.secret not in removed.stdout + removed.stderr
    assert _password_login(server, account.email).status_code == 201  # the password alone
    events = _events_about(factory, account.id, "account:second-factor:remove")
    assert [event.details for event in events] == [{"kind": "totp", "by": "administrator"}]
    with factory.database.unit_of_work(write=False) as session:
        left = session.scalars(select(RecoveryCode).where(RecoveryCode.account_id == account.id))
        assert list(left) == []
    unknown = run_cli("accounts", "remove-2fa", "nobody@example.com", env=server.env)
    assert unknown.returncode == 1
    assert "No account has the email" in unknown.stderr


def _events_about(factory: Factory, account_id: str, action: str) -> list[Event]:
    with factory.database.unit_of_work(write=False) as session:
        query = select(Event).where(Event.target_id == account_id, Event.action == action)
        return list(session.scalars(query))


def test_a_pending_sign_in_expires_after_five_minutes(
    browser: httpx.Client, factory: Factory, account: UserAccount, enrolled: Enrolled
) -> None:
    def signed(started: datetime) -> str:
        target = base64.urlsafe_b64encode(b"/dashboard").decode().rstrip("=")
        payload = f"{account.id}.{int(started.timestamp())}.{target}"
        return f"{payload}.{factory.hasher.hash(f'pending-sign-in:{payload}')}"

    browser.cookies.set("ostiary_pending_sign_in", signed(utcnow() - timedelta(minutes=6)))
    assert browser.get("/login/second-factor").headers["location"] == "/login"
    browser.cookies.set("ostiary_pending_sign_in", signed(utcnow() - timedelta(minutes=4)))
    assert browser.get("/login/second-factor").status_code == 200  # the same, still fresh
    assert _code(browser, enrolled.code()).headers["location"] == "/dashboard"


def test_a_borrowed_session_cannot_enrol_a_factor_of_its_own(
    browser: httpx.Client, factory: Factory, account: UserAccount
) -> None:
    """A session whose password proof is old (a cookie taken from an unlocked laptop) may not
    set up an authenticator app: its codes would pass every later re-authentication, and lock
    the owner out. With the password typed again it may."""
    _signed_in(browser, account)
    _stale(factory, account)
    refused = _form(browser, "/dashboard/two-factor/totp")
    assert _flash(refused) == "Enter your current password to confirm it is you."
    with factory.database.unit_of_work(write=False) as session:
        assert session.get(TotpFactor, account.id) is None
    started = _form(browser, "/dashboard/two-factor/totp", password=PASSWORD)
    secret = _secret_on(started.text)
    _stale(factory, account)
    late = _form(
        browser, "/dashboard/two-factor/totp/confirm", code=code_at(secret, time_step(utcnow()))
    )
    assert _flash(late) == "Enter your current password to confirm it is you."
    confirmed = _form(
        browser,
        "/dashboard/two-factor/totp/confirm",
        password=PASSWORD,
        code=code_at(secret, time_step(utcnow())),
    )
    assert len(_recovery_codes_on(confirmed.text)) == 10
