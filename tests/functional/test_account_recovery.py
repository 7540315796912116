"""Account recovery and verification by email against a real server and a real SMTP server
(aiosmtpd on loopback): "Forgot password?" end to end, email verification and change, the
administrator's commands, disabled accounts, and no secret in the log or the outbox."""

from __future__ import annotations

import contextlib
import re
import time
from collections.abc import Callable, Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from ostiary.accounts.models import EmailLink
from ostiary.clock import utcnow
from ostiary.events import Event
from ostiary.webhooks.outbox import OutboxMail
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import hidden_fields, register
from tests.support.recovery_flow import (
    PROMPT,
    account_status,
    ask_reset,
    browser_for,
    link_in,
    mail_to,
    password_login,
    reset_with,
    subjects_to,
)
from tests.support.server import ServerProcess, run_cli, start_server
from tests.support.smtp_sink import Sink, smtp_sink

NEW_PASSWORD = "a freshly chosen passphrase"


@pytest.fixture(scope="module")
def mail_server(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Sink]]:
    """A server that sends mail to the test's SMTP server, open to sign-up, whose sending job
    runs only once a minute unless woken."""
    with smtp_sink() as sink:
        server = start_server(
            tmp_path_factory.mktemp("recovery"),
            settings={
                "OSTIARY_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
                "OSTIARY_MAIL_FROM": "ostiary@example.test",
                "OSTIARY_SIGNUP": "open",
                "OSTIARY_USAGE_FLUSH_SECONDS": "60",
                # Every test here comes from 127.0.0.1: room for them all in a minute (the
                # per-address bound has its own test, on a server of its own).
                "OSTIARY_LOGIN_REQUEST_LIMIT": "1000",
            },
        )
        try:
            yield server, sink
        finally:
            server.stop()


@pytest.fixture(scope="module")
def mail_factory(mail_server: tuple[ServerProcess, Sink]) -> Iterator[Factory]:
    made = Factory(mail_server[0].data_dir)
    yield made
    made.close()


def _actions(factory: Factory, account_id: str) -> list[str]:
    with factory.database.unit_of_work(write=False) as session:
        return list(
            session.scalars(
                select(Event.action).where(Event.target_id == account_id).order_by(Event.seq)
            )
        )


def test_the_login_page_offers_forgot_password(mail_server: tuple[ServerProcess, Sink]) -> None:
    server, _ = mail_server
    with browser_for(server) as browser:
        assert 'href="/forgot-password"' in browser.get("/login").text


def test_a_reset_link_works_once_and_ends_everything_the_old_password_made(
    mail_server: tuple[ServerProcess, Sink], mail_factory: Factory
) -> None:
    server, sink = mail_server
    user = mail_factory.account("reset")
    cli_login = password_login(server, user.email, PASSWORD).json()["access_token"]["token"]
    assert account_status(server, cli_login) == 200

    asked = time.monotonic()
    answer = ask_reset(server, user.email)
    assert answer.status_code == 200
    assert "a link to reset its" in answer.text
    text, html = mail_to(sink, user.email, "Reset your Ostiary password")
    assert time.monotonic() - asked < PROMPT  # woken, not left for the minute's run
    link = link_in(text)
    assert link in html.replace("&amp;", "&")
    assert "30 minutes" in text

    done = reset_with(server, link, NEW_PASSWORD)
    assert done.status_code == 200, done.text
    new_key = re.search(r'<code id="new-key">([^<]+)</code>', done.text)
    assert new_key is not None
    # Every session and the API key (with what was made with it) stopped; the new key works.
    assert account_status(server, user.api_key) == 401
    assert account_status(server, cli_login) == 401
    assert account_status(server, new_key.group(1)) == 200
    assert password_login(server, user.email, PASSWORD).status_code == 401
    assert password_login(server, user.email, NEW_PASSWORD).status_code == 201
    # The owner is told, and the link works no more.
    # Told by the notifications, from the event, at the next sealing (a minute on this
    # server; 5 s by default): docs/notifications.md.
    notice, _ = mail_to(sink, user.email, "Your Ostiary password was reset", timeout=75)
    assert "Your API key was regenerated" in notice
    assert "token=" not in notice
    with browser_for(server) as browser:
        again = browser.get(link[link.index("/reset-password") :])
    assert again.status_code == 400
    assert "expired or was already used" in again.text
    actions = _actions(mail_factory, user.id)
    assert "account:password-reset:request" in actions
    assert "account:password:reset" in actions


def test_an_unknown_email_gets_the_same_answer_and_no_mail(
    mail_server: tuple[ServerProcess, Sink], mail_factory: Factory
) -> None:
    server, sink = mail_server
    user = mail_factory.account("known")
    unknown = "nobody-here@example.com"
    answers = [ask_reset(server, address) for address in (unknown, user.email)]
    assert [a.status_code for a in answers] == [200, 200]
    bodies = [
        re.sub(r'name="csrf_token" value="[^"]*"', "", a.text).replace(address, "EMAIL")
        for a, address in zip(answers, (unknown, user.email), strict=True)
    ]
    assert bodies[0] == bodies[1]
    mail_to(sink, user.email, "Reset your Ostiary password")
    assert subjects_to(sink, unknown) == []


def test_an_expired_link_is_refused(
    mail_server: tuple[ServerProcess, Sink], mail_factory: Factory
) -> None:
    server, sink = mail_server
    user = mail_factory.account("late")
    ask_reset(server, user.email)
    link = link_in(mail_to(sink, user.email, "Reset your Ostiary password")[0])
    with mail_factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(EmailLink)
            .where(EmailLink.account_id == user.id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    with browser_for(server) as browser:
        refused = browser.get(link[link.index("/reset-password") :])
    assert refused.status_code == 400
    assert account_status(server, user.api_key) == 200  # nothing changed


def test_a_weak_new_password_is_refused_with_the_reason_and_the_link_still_works(
    mail_server: tuple[ServerProcess, Sink], mail_factory: Factory
) -> None:
    server, sink = mail_server
    user = mail_factory.account("weak")
    ask_reset(server, user.email)
    link = link_in(mail_to(sink, user.email, "Reset your Ostiary password")[0])
    common = reset_with(server, link, "1234567890qwerty")
    assert common.status_code == 422
    assert "commonly used" in common.text
    local = user.email.split("@")[0]
    named = reset_with(server, link, f"my {local} password")
    assert named.status_code == 422
    assert "before the @" in named.text
    assert reset_with(server, link, "short one").status_code == 422
    assert reset_with(server, link, NEW_PASSWORD, again="something else").status_code == 422
    assert account_status(server, user.api_key) == 200
    assert reset_with(server, link, NEW_PASSWORD).status_code == 200


def test_a_newer_link_voids_none_but_using_one_voids_the_others_and_the_budget_is_bounded(
    mail_server: tuple[ServerProcess, Sink], mail_factory: Factory
) -> None:
    server, sink = mail_server
    user = mail_factory.account("many")
    for _ in range(4):
        assert ask_reset(server, user.email).status_code == 200
    deadline = time.monotonic() + PROMPT
    while len(subjects_to(sink, user.email)) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)
    # Three an hour per account: whoever types the email cannot flood its owner's mailbox.
    assert subjects_to(sink, user.email) == ["Reset your Ostiary password"] * 3
    links = [
        link_in(sink.parts(index)[0])
        for index, message in enumerate(sink.messages)
        if message["To"] == user.email
    ]
    assert reset_with(server, links[1], NEW_PASSWORD).status_code == 200
    with browser_for(server) as browser:
        for voided in (links[0], links[2]):
            assert browser.get(voided[voided.index("/reset-password") :]).status_code == 400


def _sign_up(server: ServerProcess, email: str) -> httpx.Client:
    browser = browser_for(server)
    fields = hidden_fields(browser.get("/signup").text)
    made = browser.post(
        "/signup",
        data={
            **fields,
            "email": email,
            "password": PASSWORD,
            "password_confirmation": PASSWORD,
        },
    )
    assert made.status_code == 200, made.text
    assert "follow it to verify" in made.text
    return browser


def _api_key_of(page: str) -> str:
    found = re.search(r'<code id="api-key">([^<]+)</code>', page)
    assert found is not None
    return found.group(1)


def _confirm(server: ServerProcess, link: str) -> httpx.Response:
    path = link[link.index("/verify-email") :]
    with browser_for(server) as browser:
        form = browser.get(path)
        assert form.status_code == 200, form.text
        return browser.post("/verify-email", data=hidden_fields(form.text))


def test_sign_up_mails_a_verification_link_and_following_it_verifies(
    mail_server: tuple[ServerProcess, Sink],
) -> None:
    server, sink = mail_server
    email = f"signup-{time.monotonic_ns()}@example.com"
    browser = _sign_up(server, email)
    welcome = browser.get("/dashboard/account")
    assert "is not verified" in welcome.text
    fields = hidden_fields(welcome.text)
    link = link_in(mail_to(sink, email, "Confirm your email address")[0])
    # The "resend" button sends a new link and voids the first.
    resent = browser.post("/dashboard/account/verification", data=fields)
    assert resent.status_code == 303
    deadline = time.monotonic() + PROMPT
    while len(subjects_to(sink, email)) < 2 and time.monotonic() < deadline:
        time.sleep(0.1)
    links = [link_in(sink.parts(i)[0]) for i, m in enumerate(sink.messages) if m["To"] == email]
    assert links[0] == link
    assert len(links) == 2
    assert _confirm_status(server, links[0]) == 400  # voided by the resend
    confirmed = _confirm(server, links[1])
    assert confirmed.status_code == 200
    assert "verified email address" in confirmed.text
    assert "is not verified" not in browser.get("/dashboard/account").text
    browser.close()


def test_get_account_says_whether_the_email_is_verified(
    mail_server: tuple[ServerProcess, Sink],
) -> None:
    server, sink = mail_server
    email = f"verify-{time.monotonic_ns()}@example.com"
    with browser_for(server) as browser:
        fields = hidden_fields(browser.get("/signup").text)
        made = browser.post(
            "/signup",
            data={
                **fields,
                "email": email,
                "password": PASSWORD,
                "password_confirmation": PASSWORD,
            },
        )
    key = _api_key_of(made.text)
    with server.client(key) as api:
        assert api.get("/account").json()["verified"] is False
    assert (
        _confirm(server, link_in(mail_to(sink, email, "Confirm your email")[0])).status_code == 200
    )
    with server.client(key) as api:
        assert api.get("/account").json()["verified"] is True


@contextlib.contextmanager
def _signed_in(
    server: ServerProcess, email: str, password: str = PASSWORD
) -> Iterator[httpx.Client]:
    with browser_for(server) as browser:
        fields = hidden_fields(browser.get("/login").text)
        answer = browser.post("/login", data={**fields, "email": email, "password": password})
        assert answer.status_code == 303, answer.text
        yield browser


def test_an_email_change_waits_for_the_new_address_and_tells_the_old_one(
    mail_server: tuple[ServerProcess, Sink], mail_factory: Factory
) -> None:
    server, sink = mail_server
    user = mail_factory.account("mover")
    new_email = f"moved-{time.monotonic_ns()}@example.com"
    with _signed_in(server, user.email) as browser:
        fields = hidden_fields(browser.get("/dashboard/account").text)
        saved = browser.post(
            "/dashboard/account/profile",
            data={**fields, "name": "", "email": new_email, "password": PASSWORD},
        )
        assert saved.status_code == 303
        flash = browser.get("/dashboard/account").text
    assert "follow the link we sent to" in flash
    with server.client(user.api_key) as api:
        assert api.get("/account").json()["email"] == user.email  # not yet
    link = link_in(mail_to(sink, new_email, "Confirm your email address")[0])
    assert _confirm(server, link).status_code == 200
    with server.client(user.api_key) as api:
        account = api.get("/account").json()
    assert (account["email"], account["verified"]) == (new_email, True)
    told, _ = mail_to(sink, user.email, "Your Ostiary email address was changed")
    assert new_email in told
    assert "account:email:verify" in _actions(mail_factory, user.id)
    assert _confirm_status(server, link) == 400  # once only


def _confirm_status(server: ServerProcess, link: str) -> int:
    with browser_for(server) as browser:
        return browser.get(link[link.index("/verify-email") :]).status_code


def _cli(server: ServerProcess, *args: str, stdin: str | None = None) -> str:
    done = run_cli(*args, env=server.env, stdin=stdin)
    assert done.returncode == 0, done.stderr
    return done.stdout


def test_the_administrator_prints_a_one_time_reset_link(
    mail_server: tuple[ServerProcess, Sink], mail_factory: Factory
) -> None:
    server, _ = mail_server
    user = mail_factory.account("admin-link")
    printed = _cli(server, "accounts", "reset-password", user.email)
    link = link_in(printed)
    assert reset_with(server, link, NEW_PASSWORD).status_code == 200
    assert account_status(server, user.api_key) == 401
    assert password_login(server, user.email, NEW_PASSWORD).status_code == 201


def test_the_administrator_sets_a_password_from_stdin(
    mail_server: tuple[ServerProcess, Sink], mail_factory: Factory
) -> None:
    server, _sink = mail_server
    user = mail_factory.account("admin-set")
    weak = run_cli(
        "accounts",
        "reset-password",
        user.email,
        "--password-stdin",
        env=server.env,
        stdin="password1234\n",
    )
    assert weak.returncode == 1
    assert "commonly used" in weak.stderr
    printed = _cli(
        server,
        "accounts",
        "reset-password",
        user.email,
        "--password-stdin",
        stdin=f"{NEW_PASSWORD}\n",
    )
    new_key = printed.split("API key (shown once):")[1].strip()
    assert account_status(server, user.api_key) == 401
    assert account_status(server, new_key) == 200
    assert password_login(server, user.email, NEW_PASSWORD).status_code == 201
    with mail_factory.database.unit_of_work(write=False) as session:
        details = session.scalars(
            select(Event.details).where(
                Event.target_id == user.id, Event.action == "account:password:reset"
            )
        ).all()
    assert details
    assert details[0]["by"] == "administrator"
    # Queued by the server's notifications once it seals the command's event (within a minute
    # on this server; 5 s by default).
    deadline = time.monotonic() + 75
    queued: list[str] = []
    while "Your Ostiary password was reset" not in queued and time.monotonic() < deadline:
        time.sleep(0.2)
        with mail_factory.database.unit_of_work(write=False) as session:
            queued = list(
                session.scalars(
                    select(OutboxMail.subject).where(OutboxMail.to_address == user.email)
                )
            )
    assert "Your Ostiary password was reset" in queued


def test_a_disabled_accounts_credentials_stop_at_once_and_come_back_when_enabled(
    mail_server: tuple[ServerProcess, Sink], mail_factory: Factory
) -> None:
    server, _ = mail_server
    user = mail_factory.account("disabled")
    _, token = mail_factory.token(user, ["global"])
    # A resource server of the same owner asks whether the token is active.
    client = register(server, user.api_key)
    auth = (client["id"], client["secret"])

    def active(presented: str) -> bool:
        answer = httpx.post(f"{server.url}/oauth/introspect", data={"token": presented}, auth=auth)
        return bool(answer.json()["active"])

    assert (account_status(server, user.api_key), account_status(server, token), active(token)) == (
        200,
        200,
        True,
    )
    stack = contextlib.ExitStack()
    signed_in = stack.enter_context(_signed_in(server, user.email))
    assert signed_in.get("/dashboard/account").status_code == 200
    assert "Disabled" in _cli(server, "accounts", "disable", user.email)
    # The browser's session signs nobody in while the account is disabled.
    gone = signed_in.get("/dashboard/account")
    assert gone.status_code == 303
    assert gone.headers["location"].startswith("/login")
    with server.client(user.api_key) as api:
        refused = api.get("/account")
    assert refused.status_code == 401
    assert "disabled" in refused.json()["message"]
    assert account_status(server, token) == 401
    assert not active(token)
    # Sign-in: the right password learns the account is disabled; a wrong one learns nothing.
    assert password_login(server, user.email, PASSWORD).status_code == 401
    with browser_for(server) as browser:
        fields = hidden_fields(browser.get("/login").text)
        right = browser.post("/login", data={**fields, "email": user.email, "password": PASSWORD})
        wrong = browser.post("/login", data={**fields, "email": user.email, "password": "x" * 14})
    assert right.status_code == 403
    assert "This account is disabled" in right.text
    assert wrong.status_code == 401
    assert "This account is disabled" not in wrong.text
    # No reset link is made for a disabled account.
    assert ask_reset(server, user.email).status_code == 200
    with mail_factory.database.unit_of_work(write=False) as session:
        links = session.scalars(select(EmailLink.id).where(EmailLink.account_id == user.id)).all()
    assert links == []

    assert "Enabled" in _cli(server, "accounts", "enable", user.email)
    assert signed_in.get("/dashboard/account").status_code == 200
    stack.close()
    assert (account_status(server, user.api_key), account_status(server, token), active(token)) == (
        200,
        200,
        True,
    )
    actions = _actions(mail_factory, user.id)
    assert "account:disable" in actions
    assert "account:enable" in actions


def test_accounts_made_by_the_administrator_count_as_verified(
    mail_server: tuple[ServerProcess, Sink],
) -> None:
    server, _ = mail_server
    email = f"made-{time.monotonic_ns()}@example.com"
    key = _cli(
        server,
        "accounts",
        "create",
        email,
        "--password-stdin",
        "--print-api-key",
        stdin=f"{PASSWORD}\n",
    ).strip()
    with server.client(key) as api:
        assert api.get("/account").json()["verified"] is True


def test_no_link_token_or_password_is_left_in_the_outbox_or_the_log(
    mail_server: tuple[ServerProcess, Sink], mail_factory: Factory
) -> None:
    server, sink = mail_server
    user = mail_factory.account("secretive")
    ask_reset(server, user.email)
    text, _ = mail_to(sink, user.email, "Reset your Ostiary password")
    token = link_in(text).split("token=")[1]
    reset_with(server, link_in(text), NEW_PASSWORD)
    _wait_until(lambda: _outbox_settled(mail_factory))
    with mail_factory.database.unit_of_work(write=False) as session:
        rows = session.execute(
            select(OutboxMail.text_body, OutboxMail.html_body, OutboxMail.sealed)
        ).all()
    stored = " ".join(f"{text_body} {html_body}" for text_body, html_body, _ in rows)
    assert "token=" not in stored
    assert token not in stored
    log = server.log()
    assert token not in log
    assert NEW_PASSWORD not in log
    assert PASSWORD not in log
    assert "token=" not in log


def _outbox_settled(factory: Factory) -> bool:
    with factory.database.unit_of_work(write=False) as session:
        waiting = session.scalars(
            select(OutboxMail.id).where(OutboxMail.status.in_(("pending", "retrying")))
        ).all()
    return not waiting


def _wait_until(done: Callable[[], bool], timeout: float = PROMPT) -> None:
    deadline = time.monotonic() + timeout
    while not done():
        assert time.monotonic() < deadline, "timed out"
        time.sleep(0.1)


def test_forgot_password_is_bounded_per_address(tmp_path: Path) -> None:
    with smtp_sink() as sink:
        server = start_server(
            tmp_path / "bounded",
            settings={
                "OSTIARY_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
                "OSTIARY_LOGIN_REQUEST_LIMIT": "2",
            },
        )
        try:
            statuses = [ask_reset(server, f"n{i}@example.com").status_code for i in range(3)]
        finally:
            server.stop()
    assert statuses == [200, 200, 429]


def test_without_mail_the_page_says_to_ask_an_administrator(
    server: ServerProcess, account: UserAccount, tmp_path: Path
) -> None:
    with browser_for(server) as browser:
        page = browser.get("/forgot-password")
        assert page.status_code == 200
        assert "ostiary accounts reset-password" in page.text
        fields = hidden_fields(page.text)
        posted = browser.post("/forgot-password", data={**fields, "email": account.email})
    assert posted.status_code == 200
    assert "does not send mail" in posted.text
    checked = run_cli("check", env=server.env)
    assert "Forgot password?" in checked.stdout + checked.stderr


def test_resending_the_verification_is_bounded_and_says_so(
    mail_server: tuple[ServerProcess, Sink],
) -> None:
    server, _ = mail_server
    email = f"resender-{time.monotonic_ns()}@example.com"
    browser = _sign_up(server, email)  # the first link
    try:
        for _ in range(2):  # two more make the hour's three
            fields = hidden_fields(browser.get("/dashboard/account").text)
            assert browser.post("/dashboard/account/verification", data=fields).status_code == 303
        fields = hidden_fields(browser.get("/dashboard/account").text)
        browser.post("/dashboard/account/verification", data=fields)
        assert "Too many of these mails" in browser.get("/dashboard/account").text
    finally:
        browser.close()


def test_behind_a_second_factor_the_reset_page_shows_no_api_key(
    mail_server: tuple[ServerProcess, Sink], mail_factory: Factory
) -> None:
    """The mailbox alone must not yield a credential of an account with a second factor: the
    key is regenerated (the old one stops) but not shown, and signing in still asks for the
    code."""
    from tests.support.second_factors import enrol_totp

    server, sink = mail_server
    user = mail_factory.account("reset-2fa")
    enrol_totp(mail_factory, user)
    ask_reset(server, user.email)
    text, _ = mail_to(sink, user.email, "Reset your Ostiary password")
    done = reset_with(server, link_in(text), NEW_PASSWORD)
    assert done.status_code == 200, done.text
    assert 'id="new-key"' not in done.text
    assert "ostk_" not in done.text
    assert 'id="new-key-withheld"' in done.text
    assert account_status(server, user.api_key) == 401
    refused = password_login(server, user.email, NEW_PASSWORD)
    assert refused.status_code == 403
    assert refused.json()["id"] == "two_factor"


def test_a_link_asked_for_before_the_account_was_disabled_changes_nothing(
    mail_server: tuple[ServerProcess, Sink], mail_factory: Factory
) -> None:
    server, sink = mail_server
    user = mail_factory.account("reset-disabled")
    ask_reset(server, user.email)
    text, _ = mail_to(sink, user.email, "Reset your Ostiary password")
    _cli(server, "accounts", "disable", user.email)
    refused = reset_with(server, link_in(text), NEW_PASSWORD)
    assert refused.status_code == 400
    assert "expired or was already used" in refused.text
    _cli(server, "accounts", "enable", user.email)
    assert password_login(server, user.email, PASSWORD).status_code == 201
