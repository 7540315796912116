"""Passkeys over HTTP against a real server, answered by a software authenticator: a passkey
registered from the dashboard signs in alone; and every answer a browser would never send is
refused with a 4xx JSON error (another origin, a replayed answer, another browser's challenge,
an unknown credential, a counter that went back, no user verification, an expired challenge,
an oversize or malformed body, a missing CSRF token), never a 500."""

from __future__ import annotations

import re
from collections.abc import Iterator
from datetime import timedelta
from html import unescape
from typing import Any

import httpx
import pytest
from sqlalchemy import select, update

from ostiary.accounts.models import LoginSession
from ostiary.clock import utcnow
from ostiary.events import Event
from ostiary.passkeys.models import Passkey, PasskeyChallenge
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import hidden_fields
from tests.support.server import ServerProcess, start_server
from tests.support.soft_authenticator import SoftAuthenticator


@pytest.fixture(scope="module")
def passkey_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    # Many sign-in challenges come from one address in these tests.
    server = start_server(
        tmp_path_factory.mktemp("passkeys"), settings={"OSTIARY_LOGIN_REQUEST_LIMIT": "1000"}
    )
    yield server
    server.stop()


@pytest.fixture(scope="module")
def factory(passkey_server: ServerProcess) -> Iterator[Factory]:
    made = Factory(passkey_server.data_dir)
    yield made
    made.close()


@pytest.fixture
def user(factory: Factory) -> UserAccount:
    return factory.account("passkey")


_OPEN: list[httpx.Client] = []


@pytest.fixture(autouse=True)
def _close_browsers() -> Iterator[None]:
    yield
    while _OPEN:
        _OPEN.pop().close()


def _browser(server: ServerProcess) -> httpx.Client:
    """A client with its own cookies, closed after the test."""
    client = httpx.Client(base_url=server.url, timeout=30)
    _OPEN.append(client)
    return client


def _csrf_of(html: str) -> str:
    found = re.search(r'data-csrf="([^"]+)"', html)
    assert found, html
    return unescape(found.group(1))


def _signed_in(server: ServerProcess, user: UserAccount) -> tuple[httpx.Client, str]:
    """A browser signed in with the password, on the passkeys page: (client, its CSRF token)."""
    browser = _browser(server)
    login = browser.get("/login")
    answered = browser.post(
        "/login", data={**hidden_fields(login.text), "email": user.email, "password": PASSWORD}
    )
    assert answered.status_code == 303, answered.text
    page = browser.get("/dashboard/passkeys")
    assert page.status_code == 200
    return browser, _csrf_of(page.text)


def _register(
    server: ServerProcess,
    user: UserAccount,
    authenticator: SoftAuthenticator | None = None,
    signed_in: tuple[httpx.Client, str] | None = None,
) -> SoftAuthenticator:
    """Register a passkey from the dashboard, in a browser signed in with the password (a new
    one unless ``signed_in`` gives it)."""
    authenticator = authenticator or SoftAuthenticator(origin=server.url)
    browser, csrf = signed_in or _signed_in(server, user)
    options = browser.post("/dashboard/passkeys/register/options", headers={"X-CSRF-Token": csrf})
    assert options.status_code == 200, options.text
    verified = browser.post(
        "/dashboard/passkeys/register/verify",
        headers={"X-CSRF-Token": csrf},
        json={"name": "Laptop", "credential": authenticator.register(options.json())},
    )
    assert verified.status_code == 201, verified.text
    assert verified.json()["name"] == "Laptop"
    return authenticator


class LoginPage:
    """An anonymous browser on the login page, asking for sign-in challenges."""

    def __init__(self, server: ServerProcess) -> None:
        self.client = _browser(server)
        self.csrf = _csrf_of(self.client.get("/login").text)

    def options(self) -> dict[str, Any]:
        answered = self.client.post("/login/passkey/options", headers={"X-CSRF-Token": self.csrf})
        assert answered.status_code == 200, answered.text
        assert answered.headers["cache-control"] == "no-store"
        options: dict[str, Any] = answered.json()
        return options

    def verify(self, credential: object, **extra: object) -> httpx.Response:
        return self.client.post(
            "/login/passkey/verify",
            headers={"X-CSRF-Token": self.csrf},
            json={"credential": credential, "next": "/dashboard/passkeys", **extra},
        )


def _signed_in_to(response: httpx.Response, location: str = "/dashboard/passkeys") -> None:
    """A sign-in's answer: the session cookie, and where the page goes next."""
    assert response.status_code == 200, response.text
    assert response.json() == {"location": location}
    assert "ostiary_session" in response.cookies
    assert response.headers["cache-control"] == "no-store"


def _refused(response: httpx.Response, status: int, code: str) -> None:
    assert response.status_code == status, response.text
    assert response.headers["content-type"].startswith("application/json")
    assert response.json()["id"] == code
    assert "ostiary_session" not in response.cookies


def _events(factory: Factory, account_id: str | None, action: str) -> list[Event]:
    with factory.database.unit_of_work(write=False) as session:
        query = select(Event).where(Event.action == action)
        if account_id is not None:
            query = query.where(Event.actor_id == account_id)
        return list(session.scalars(query))


def test_a_registered_passkey_signs_in_alone(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount
) -> None:
    authenticator = _register(passkey_server, user)
    added = _events(factory, user.id, "account:second-factor:add")
    assert [event.details["kind"] for event in added] == ["passkey"]
    login = LoginPage(passkey_server)
    options = login.options()
    assert options["userVerification"] == "required"
    assert options["allowCredentials"] == []  # discoverable: no email typed, nobody named
    answered = login.verify(authenticator.answer(options))
    _signed_in_to(answered, "/dashboard/passkeys")
    page = login.client.get("/dashboard/passkeys")
    assert page.status_code == 200
    assert user.email in page.text
    assert "Laptop" in page.text
    assert len(_events(factory, user.id, "auth:passkey:success")) == 1
    with factory.database.unit_of_work(write=False) as session:
        passkey = session.scalars(select(Passkey).where(Passkey.account_id == user.id)).one()
        assert passkey.last_used_at is not None
        assert passkey.transports == ["internal"]


def test_a_replayed_answer_is_refused(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount
) -> None:
    authenticator = _register(passkey_server, user)
    login = LoginPage(passkey_server)
    answer = authenticator.answer(login.options())
    _signed_in_to(login.verify(answer), "/dashboard/passkeys")
    # The same answer again (synced passkeys count nothing, so only the challenge stops it).
    _refused(login.verify(answer), 400, "passkey_challenge_invalid")
    refused = _events(factory, None, "auth:passkey:failure")
    assert any(event.details.get("reason") == "challenge" for event in refused)


def test_another_origin_is_refused_and_uses_up_the_challenge(
    passkey_server: ServerProcess, user: UserAccount
) -> None:
    authenticator = _register(passkey_server, user)
    login = LoginPage(passkey_server)
    options = login.options()
    phished = authenticator.answer(options, origin="https://ostiary.example.com")
    _refused(login.verify(phished), 403, "passkey_rejected")
    _refused(login.verify(authenticator.answer(options)), 400, "passkey_challenge_invalid")


def test_another_relying_party_is_refused(passkey_server: ServerProcess, user: UserAccount) -> None:
    authenticator = _register(passkey_server, user)
    login = LoginPage(passkey_server)
    answer = authenticator.answer(login.options(), rp_id="example.com")
    _refused(login.verify(answer), 403, "passkey_rejected")


def test_another_browsers_challenge_is_refused(
    passkey_server: ServerProcess, user: UserAccount
) -> None:
    authenticator = _register(passkey_server, user)
    victim, attacker = LoginPage(passkey_server), LoginPage(passkey_server)
    # The attacker's own valid CSRF token, with a challenge handed to another browser.
    _refused(
        attacker.verify(authenticator.answer(victim.options())), 400, "passkey_challenge_invalid"
    )


def test_an_unknown_credential_is_refused(passkey_server: ServerProcess) -> None:
    stranger = SoftAuthenticator(origin=passkey_server.url)
    login = LoginPage(passkey_server)
    _refused(login.verify(stranger.answer(login.options())), 403, "passkey_rejected")


def test_a_counter_that_goes_back_is_refused(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount
) -> None:
    authenticator = _register(
        passkey_server, user, SoftAuthenticator(origin=passkey_server.url, counts=True)
    )
    login = LoginPage(passkey_server)
    _signed_in_to(login.verify(authenticator.answer(login.options(), sign_count=7)))
    # A clone of the authenticator, behind the original.
    _refused(
        login.verify(authenticator.answer(login.options(), sign_count=3)), 403, "passkey_rejected"
    )
    _refused(
        login.verify(authenticator.answer(login.options(), sign_count=7)), 403, "passkey_rejected"
    )
    _signed_in_to(login.verify(authenticator.answer(login.options(), sign_count=8)))
    reasons = [e.details.get("reason") for e in _events(factory, user.id, "auth:passkey:failure")]
    assert reasons == ["sign-count", "sign-count"]


def test_a_passwordless_sign_in_needs_user_verification(
    passkey_server: ServerProcess, user: UserAccount
) -> None:
    authenticator = _register(passkey_server, user)
    authenticator.user_verified = False  # touched, but no PIN or fingerprint
    login = LoginPage(passkey_server)
    _refused(login.verify(authenticator.answer(login.options())), 403, "passkey_rejected")


def test_an_expired_challenge_is_refused(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount
) -> None:
    authenticator = _register(passkey_server, user)
    login = LoginPage(passkey_server)
    options = login.options()
    with factory.database.unit_of_work(write=True) as session:
        session.execute(update(PasskeyChallenge).values(expires_at=utcnow() - timedelta(seconds=1)))
    _refused(login.verify(authenticator.answer(options)), 400, "passkey_challenge_invalid")


def test_bad_bodies_are_4xx_json(passkey_server: ServerProcess) -> None:
    login = LoginPage(passkey_server)
    headers = {"X-CSRF-Token": login.csrf, "Content-Type": "application/json"}
    post = login.client.post
    _refused(
        post("/login/passkey/verify", headers=headers, content=b"x" * 70_000),
        413,
        "request_entity_too_large",
    )
    _refused(
        post("/login/passkey/verify", headers=headers, content=b"{nope"), 422, "invalid_params"
    )
    _refused(post("/login/passkey/verify", headers=headers, content=b"[1]"), 422, "invalid_params")
    _refused(
        post("/login/passkey/verify", headers=headers, content=b"[" * 60_000), 422, "invalid_params"
    )
    _refused(login.verify("not a credential"), 422, "invalid_params")
    _refused(
        login.verify({"response": {"clientDataJSON": "%%%"}}), 400, "passkey_challenge_invalid"
    )
    garbage = {
        "rawId": "AAAA",
        "id": "AAAA",
        "type": "public-key",
        "response": {"clientDataJSON": "e30"},
    }
    _refused(login.verify(garbage), 400, "passkey_challenge_invalid")


def test_a_malformed_answer_to_a_live_challenge_is_refused(
    passkey_server: ServerProcess, user: UserAccount
) -> None:
    authenticator = _register(passkey_server, user)
    login = LoginPage(passkey_server)
    answer = authenticator.answer(login.options())
    answer["response"]["signature"] = "not base64!"
    answer["response"]["authenticatorData"] = "AAAA"
    _refused(login.verify(answer), 403, "passkey_rejected")


def test_the_json_endpoints_need_the_pages_csrf_token(passkey_server: ServerProcess) -> None:
    login = LoginPage(passkey_server)
    _refused(login.client.post("/login/passkey/options"), 403, "forbidden")
    _refused(
        login.client.post("/login/passkey/options", headers={"X-CSRF-Token": "forged"}),
        403,
        "forbidden",
    )
    # Without the browser's CSRF cookie the header proves nothing.
    other = _browser(passkey_server)
    _refused(
        other.post("/login/passkey/options", headers={"X-CSRF-Token": login.csrf}),
        403,
        "forbidden",
    )


def test_registering_needs_a_recent_password(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount
) -> None:
    browser, csrf = _signed_in(passkey_server, user)
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(LoginSession)
            .where(LoginSession.account_id == user.id)
            .values(authenticated_at=utcnow() - timedelta(minutes=6))
        )
    refused = browser.post("/dashboard/passkeys/register/options", headers={"X-CSRF-Token": csrf})
    _refused(refused, 403, "reauthentication_required")
    # The page asks for the password; once proved, the ceremony may start.
    page = browser.get("/dashboard/passkeys")
    assert 'action="/dashboard/passkeys/confirm"' in page.text
    confirmed = browser.post(
        "/dashboard/passkeys/confirm", data={"csrf_token": csrf, "password": PASSWORD}
    )
    assert confirmed.status_code == 303
    again = browser.post("/dashboard/passkeys/register/options", headers={"X-CSRF-Token": csrf})
    assert again.status_code == 200, again.text
    assert again.json()["authenticatorSelection"]["residentKey"] == "required"


def test_a_passkey_cannot_be_registered_twice(
    passkey_server: ServerProcess, user: UserAccount, other_user: UserAccount
) -> None:
    authenticator = _register(passkey_server, user)
    browser, csrf = _signed_in(passkey_server, other_user)
    options = browser.post("/dashboard/passkeys/register/options", headers={"X-CSRF-Token": csrf})
    again = browser.post(
        "/dashboard/passkeys/register/verify",
        headers={"X-CSRF-Token": csrf},
        json={"name": "Stolen", "credential": authenticator.register(options.json())},
    )
    _refused(again, 409, "conflict")


def test_a_registration_from_another_origin_is_refused(
    passkey_server: ServerProcess, user: UserAccount
) -> None:
    browser, csrf = _signed_in(passkey_server, user)
    options = browser.post("/dashboard/passkeys/register/options", headers={"X-CSRF-Token": csrf})
    answer = SoftAuthenticator(origin="https://evil.example").register(options.json())
    refused = browser.post(
        "/dashboard/passkeys/register/verify",
        headers={"X-CSRF-Token": csrf},
        json={"name": "Phished", "credential": answer},
    )
    _refused(refused, 403, "passkey_rejected")


def test_one_account_cannot_rename_or_remove_anothers_passkey(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount, other_user: UserAccount
) -> None:
    _register(passkey_server, user)
    with factory.database.unit_of_work(write=False) as session:
        passkey_id = session.scalars(select(Passkey.id).where(Passkey.account_id == user.id)).one()
    browser, csrf = _signed_in(passkey_server, other_user)
    for action, data in (("rename", {"name": "Mine"}), ("delete", {"password": PASSWORD})):
        answered = browser.post(
            f"/dashboard/passkeys/{passkey_id}/{action}", data={"csrf_token": csrf, **data}
        )
        assert answered.status_code == 303
        flash = browser.get(answered.headers["location"]).text
        assert "find that passkey" in flash
    with factory.database.unit_of_work(write=False) as session:
        assert session.get(Passkey, passkey_id).name == "Laptop"  # type: ignore[union-attr]


@pytest.fixture
def other_user(factory: Factory) -> UserAccount:
    return factory.account("other")


def _password_step(
    server: ServerProcess, user: UserAccount, next: str = "/dashboard/tokens"
) -> tuple[httpx.Client, str]:
    """A browser whose password was right, at the second-factor step: (client, its CSRF token)."""
    browser = _browser(server)
    login = browser.get("/login", params={"next": next})
    answered = browser.post(
        "/login", data={**hidden_fields(login.text), "email": user.email, "password": PASSWORD}
    )
    assert answered.status_code == 303, answered.text
    assert answered.headers["location"] == "/login/second-factor"
    assert "ostiary_session" not in answered.cookies
    step = browser.get("/login/second-factor")
    assert step.status_code == 200
    return browser, _csrf_of(step.text)


def _second_factor(
    browser: httpx.Client, csrf: str, answer: object | None = None, **extra: object
) -> httpx.Response:
    return browser.post(
        "/login/second-factor/passkey/verify",
        headers={"X-CSRF-Token": csrf},
        json={"credential": answer, **extra},
    )


def _second_factor_options(browser: httpx.Client, csrf: str) -> dict[str, Any]:
    answered = browser.post("/login/second-factor/passkey/options", headers={"X-CSRF-Token": csrf})
    assert answered.status_code == 200, answered.text
    options: dict[str, Any] = answered.json()
    return options


def test_a_passkey_is_the_second_factor_after_the_password(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount
) -> None:
    authenticator = _register(passkey_server, user)
    with passkey_server.client(user.api_key) as api:
        assert api.get("/account").json()["two_factor_authentication"] is True
    browser, csrf = _password_step(passkey_server, user)
    step = browser.get("/login/second-factor").text
    assert "Use a passkey" in step
    assert 'name="code"' not in step  # no authenticator app: no code field
    # The pending sign-in opens no page.
    assert browser.get("/dashboard/tokens").status_code == 303
    options = _second_factor_options(browser, csrf)
    assert [c["id"] for c in options["allowCredentials"]] == [_b64(authenticator.credential_id)]
    assert options["userVerification"] == "preferred"  # the password was the other factor
    authenticator.user_verified = False
    answered = _second_factor(browser, csrf, authenticator.answer(options))
    _signed_in_to(answered, "/dashboard/tokens")
    assert browser.get("/dashboard/tokens").status_code == 200
    succeeded = _events(factory, user.id, "auth:second-factor:success")
    assert [event.details for event in succeeded] == [{"kind": "passkey"}]


def test_another_accounts_passkey_is_no_second_factor(
    passkey_server: ServerProcess, user: UserAccount, other_user: UserAccount
) -> None:
    _register(passkey_server, user)
    theirs = _register(passkey_server, other_user)
    browser, csrf = _password_step(passkey_server, user)
    _refused(
        _second_factor(browser, csrf, theirs.answer(_second_factor_options(browser, csrf))),
        403,
        "passkey_rejected",
    )
    assert browser.get("/dashboard/tokens").status_code == 303


def test_the_second_factor_step_needs_the_password_first(passkey_server: ServerProcess) -> None:
    login = LoginPage(passkey_server)
    refused = login.client.post(
        "/login/second-factor/passkey/options", headers={"X-CSRF-Token": login.csrf}
    )
    _refused(refused, 403, "forbidden")  # the login page's token is not the step's
    browser = _browser(passkey_server)
    browser.get("/login")
    # Without a pending sign-in there is no step page, and no token for it: forge nothing.
    assert browser.get("/login/second-factor").status_code == 303


def test_a_passwordless_challenge_is_no_second_factor(
    passkey_server: ServerProcess, user: UserAccount
) -> None:
    authenticator = _register(passkey_server, user)
    browser, csrf = _password_step(passkey_server, user)
    # A sign-in challenge of this browser answered at the second-factor step: another purpose.
    login_csrf = _csrf_of(browser.get("/login").text)
    options = browser.post("/login/passkey/options", headers={"X-CSRF-Token": login_csrf}).json()
    _refused(
        _second_factor(browser, csrf, authenticator.answer(options)),
        400,
        "passkey_challenge_invalid",
    )


def test_remove_2fa_removes_the_passkeys(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount
) -> None:
    from ostiary.second_factors.queries import enrolled_factors
    from ostiary.second_factors.services import remove_all_factors

    _register(passkey_server, user)
    with factory.database.unit_of_work(write=True) as session:
        assert remove_all_factors(factory.unit(session), user.id) == {"passkey"}
    with factory.database.unit_of_work(write=False) as session:
        assert enrolled_factors(session, user.id) == frozenset()
    removed = [
        e.details
        for e in _events(factory, None, "account:second-factor:remove")
        if e.target_id == user.id
    ]
    assert removed == [{"kind": "passkey", "by": "administrator"}]


def _b64(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


@pytest.fixture(scope="module")
def strict_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[ServerProcess]:
    server = start_server(
        tmp_path_factory.mktemp("passkeys-required"), settings={"OSTIARY_REQUIRE_2FA": "true"}
    )
    yield server
    server.stop()


def test_a_passkey_enrols_and_the_last_one_stays_when_a_second_factor_is_required(
    strict_server: ServerProcess,
) -> None:
    factory = Factory(strict_server.data_dir)
    try:
        user = factory.account("strict")
        # An account without a factor may reach the passkeys page (and no other) to enrol.
        browser, csrf = _signed_in(strict_server, user)
        assert browser.get("/dashboard/tokens").status_code == 303
        _register(strict_server, user, signed_in=(browser, csrf))
        assert browser.get("/dashboard/tokens").status_code == 200
        with factory.database.unit_of_work(write=False) as session:
            passkey_id = session.scalars(
                select(Passkey.id).where(Passkey.account_id == user.id)
            ).one()
        answered = browser.post(
            f"/dashboard/passkeys/{passkey_id}/delete",
            data={"csrf_token": csrf, "password": PASSWORD},
        )
        assert answered.status_code == 303
        assert "requires a second factor" in browser.get("/dashboard/passkeys").text
        with factory.database.unit_of_work(write=False) as session:
            assert session.get(Passkey, passkey_id) is not None
        # With a second passkey, the first may go.
        _register(strict_server, user, signed_in=(browser, csrf))
        answered = browser.post(
            f"/dashboard/passkeys/{passkey_id}/delete",
            data={"csrf_token": csrf, "password": PASSWORD},
        )
        assert "Passkey removed." in browser.get("/dashboard/passkeys").text
        with factory.database.unit_of_work(write=False) as session:
            assert session.get(Passkey, passkey_id) is None
    finally:
        factory.close()


def test_the_apis_password_login_asks_a_passkey_only_account_for_its_second_factor(
    passkey_server: ServerProcess, user: UserAccount
) -> None:
    """A passkey cannot answer ``heroku login -i``; the password alone must not get past it."""
    _register(passkey_server, user)
    with passkey_server.client() as api:
        answered = api.post(
            "/oauth/authorizations",
            auth=(user.email, PASSWORD),
            json={"description": "heroku login -i", "scope": ["global"]},
        )
    assert answered.status_code == 403, answered.text
    assert answered.json()["id"] == "two_factor"


def test_a_user_handle_naming_another_account_is_refused(
    passkey_server: ServerProcess, user: UserAccount, other_user: UserAccount
) -> None:
    authenticator = _register(passkey_server, user)
    authenticator.user_handle = other_user.id.encode()
    login = LoginPage(passkey_server)
    _refused(login.verify(authenticator.answer(login.options())), 403, "passkey_rejected")


def test_the_same_answer_sent_twice_at_once_signs_in_once(
    passkey_server: ServerProcess, user: UserAccount
) -> None:
    from concurrent.futures import ThreadPoolExecutor

    authenticator = _register(passkey_server, user)
    login = LoginPage(passkey_server)
    answer = authenticator.answer(login.options())
    with ThreadPoolExecutor(4) as pool:
        statuses = sorted(pool.map(lambda _: login.verify(answer).status_code, range(4)))
    assert statuses == [200, 400, 400, 400]


def test_a_disabled_accounts_passkey_signs_nobody_in(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount
) -> None:
    """A passkey sign-in never passes the password check that refuses a disabled account: the
    sign-in itself refuses it, and works again once the account is enabled."""
    from ostiary.accounts.models import Account
    from ostiary.accounts.services import disable_account, enable_account

    authenticator = _register(passkey_server, user)
    with factory.database.unit_of_work(write=True) as session:
        account = session.get(Account, user.id)
        assert account is not None
        disable_account(factory.unit(session), account)
    login = LoginPage(passkey_server)
    refused = login.verify(authenticator.answer(login.options()))
    _refused(refused, 401, "unauthorized")
    assert "disabled" in refused.json()["message"]
    assert [e.details for e in _events(factory, user.id, "auth:passkey:failure")] == [
        {"reason": "disabled"}
    ]
    with factory.database.unit_of_work(write=True) as session:
        account = session.get(Account, user.id)
        assert account is not None
        enable_account(factory.unit(session), account)
    again = LoginPage(passkey_server)
    _signed_in_to(again.verify(authenticator.answer(again.options())))


def test_removing_the_last_passkey_takes_the_recovery_codes_with_it(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount
) -> None:
    """Recovery codes kept after the last factor went would come back to life with the next
    one enrolled: removing the last passkey removes them."""
    from ostiary.second_factors.queries import recovery_codes_left
    from ostiary.second_factors.services import regenerate_recovery_codes

    signed_in = _signed_in(passkey_server, user)
    _register(passkey_server, user, signed_in=signed_in)
    with factory.database.unit_of_work(write=True) as session:
        regenerate_recovery_codes(factory.unit(session), user.id)
        passkey_id = session.scalars(select(Passkey.id).where(Passkey.account_id == user.id)).one()
    browser, csrf = signed_in
    removed = browser.post(
        f"/dashboard/passkeys/{passkey_id}/delete", data={"csrf_token": csrf, "password": PASSWORD}
    )
    assert removed.status_code == 303
    with factory.database.unit_of_work(write=False) as session:
        assert session.get(Passkey, passkey_id) is None
        assert recovery_codes_left(session, user.id) == 0


def test_asking_again_replaces_the_accounts_challenge_rather_than_piling_rows_up(
    passkey_server: ServerProcess, factory: Factory, user: UserAccount
) -> None:
    """A signed-in client asking for registration options in a loop keeps one row, and only
    the latest challenge can be answered."""
    authenticator = SoftAuthenticator(origin=passkey_server.url)
    browser, csrf = _signed_in(passkey_server, user)
    asked = [
        browser.post("/dashboard/passkeys/register/options", headers={"X-CSRF-Token": csrf})
        for _ in range(5)
    ]
    assert all(answer.status_code == 200 for answer in asked)
    with factory.database.unit_of_work(write=False) as session:
        rows = session.scalars(
            select(PasskeyChallenge).where(PasskeyChallenge.account_id == user.id)
        ).all()
    assert len(rows) == 1
    stale = browser.post(
        "/dashboard/passkeys/register/verify",
        headers={"X-CSRF-Token": csrf},
        json={"name": "Old", "credential": authenticator.register(asked[0].json())},
    )
    assert stale.status_code == 400, stale.text
    fresh = browser.post(
        "/dashboard/passkeys/register/verify",
        headers={"X-CSRF-Token": csrf},
        json={"name": "New", "credential": authenticator.register(asked[-1].json())},
    )
    assert fresh.status_code == 201, fresh.text
