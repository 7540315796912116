"""Notifications on a real server mailing a real SMTP server (issue 16): a sign-in from a new
user agent mails the account, the same one again does not (nor the account's first); the API's
password login mails its sign-in, not its token; a password change mails even with the
informational notifications off; a new token mails only while they are on; no mail holds a
token; the settings' API refuses what cannot be turned off; the dashboard page, the client
library and the CLI set them.

"Nothing was mailed" is observed with a later mail that must come (a sentinel): the sealer
keeps the events' order, so once the sentinel is in and the outbox holds nothing unsent,
whatever was due before it has been received too.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest
from sqlalchemy import func, select

from ostiary.client import Client, InvalidParams
from ostiary.webhooks.outbox import OutboxMail
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import hidden_fields
from tests.support.ostiary_cli import OstiaryCLI
from tests.support.server import ServerProcess, start_server
from tests.support.smtp_sink import Sink, smtp_sink

FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
HEROKU = "heroku/10.1.0 linux-x64 node-v22.11.0"
NEW_SIGN_IN = "New sign-in to your Ostiary account"
NEW_TOKEN = "A new token for your Ostiary account"
PASSWORD_CHANGED = "Your Ostiary password was changed"
API_KEY = "Your Ostiary API key was regenerated"
SETTINGS = "/account/notification-settings"


@pytest.fixture(scope="module")
def mailing(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[ServerProcess, Sink]]:
    """A server mailing the test's SMTP server, its frequent jobs every second."""
    with smtp_sink() as sink:
        server = start_server(
            tmp_path_factory.mktemp("notifications"),
            settings={
                "OSTIARY_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
                "OSTIARY_MAIL_FROM": "ostiary@example.test",
                "OSTIARY_USAGE_FLUSH_SECONDS": "1",
                "OSTIARY_ACCESS_LOG": "off",
            },
        )
        try:
            yield server, sink
        finally:
            server.stop()


@pytest.fixture(scope="module")
def made(mailing: tuple[ServerProcess, Sink]) -> Iterator[Factory]:
    """Accounts and tokens in the mailing server's database."""
    factory = Factory(mailing[0].data_dir)
    yield factory
    factory.close()


def _mails_to(sink: Sink, email: str) -> list[tuple[str, str, str]]:
    """(subject, text, html) of each mail received for ``email``, in order."""
    found = []
    for index, recipients in enumerate(list(sink.recipients)):
        if recipients == [email]:
            text, html = sink.parts(index)
            found.append((str(sink.messages[index]["Subject"]), text, html))
    return found


def _unsent(made: Factory) -> int:
    with made.database.unit_of_work(write=False) as session:
        return int(
            session.scalar(
                select(func.count())
                .select_from(OutboxMail)
                .where(OutboxMail.status.in_(("pending", "retrying")))
            )
            or 0
        )


def _wait_for(
    sink: Sink, made: Factory, email: str, subject: str, count: int = 1
) -> list[tuple[str, str, str]]:
    """Every mail for ``email`` once ``count`` of them have ``subject`` and the outbox holds
    nothing unsent (a batch's mails are sent in no particular order)."""
    deadline = time.monotonic() + 30
    while True:
        mails = _mails_to(sink, email)
        if sum(1 for mail in mails if mail[0] == subject) >= count and _unsent(made) == 0:
            return _mails_to(sink, email)
        if time.monotonic() > deadline:
            raise AssertionError(f"no {subject!r} for {email}; got {[m[0] for m in mails]}")
        time.sleep(0.1)


def _browser(server: ServerProcess, agent: str) -> httpx.Client:
    return httpx.Client(
        base_url=server.url, headers={"User-Agent": agent}, follow_redirects=False, timeout=30
    )


def _sign_in(server: ServerProcess, account: UserAccount, agent: str) -> httpx.Client:
    """A browser with this user agent, signed in to the dashboard."""
    browser = _browser(server, agent)
    form = hidden_fields(browser.get("/login").text)
    signed_in = browser.post("/login", data={**form, "email": account.email, "password": PASSWORD})
    assert signed_in.status_code == 303, signed_in.text
    return browser


def _new_token(server: ServerProcess, account: UserAccount) -> str:
    with server.client(account.api_key) as api:
        created = api.post("/oauth/authorizations", json={"description": "CI", "scope": ["read"]})
    assert created.status_code == 201, created.text
    token: str = created.json()["access_token"]["token"]
    return token


def _settings(server: ServerProcess, account: UserAccount, **changes: bool) -> httpx.Response:
    with server.client(account.api_key) as api:
        return api.patch(SETTINGS, json=changes)


def test_a_sign_in_from_a_new_user_agent_mails_the_account_and_the_same_again_does_not(
    mailing: tuple[ServerProcess, Sink], made: Factory
) -> None:
    server, sink = mailing
    account = made.account("signs-in")
    _sign_in(server, account, FIREFOX).close()  # the account's first sign-in: remembered
    _sign_in(server, account, FIREFOX).close()
    _sign_in(server, account, CHROME_MAC).close()
    mails = _wait_for(sink, made, account.email, NEW_SIGN_IN)
    assert [mail[0] for mail in mails] == [NEW_SIGN_IN]
    _, text, html = mails[0]
    assert "Device: Chrome on Mac OS X" in text
    assert "From: 127.0.0.1" in text
    assert " UTC" in text
    assert "/dashboard/sessions" in text
    assert "/dashboard/sessions" in html
    assert "Chrome/131" not in text + html  # the device it names, never the header itself

    # The same device again, then a sentinel: still one sign-in mail.
    _sign_in(server, account, CHROME_MAC).close()
    _new_token(server, account)
    mails = _wait_for(sink, made, account.email, NEW_TOKEN)
    assert sorted(mail[0] for mail in mails) == [NEW_TOKEN, NEW_SIGN_IN]


def test_the_apis_password_login_mails_its_sign_in_and_not_its_token(
    mailing: tuple[ServerProcess, Sink], made: Factory
) -> None:
    server, sink = mailing
    account = made.account("heroku-login")
    _sign_in(server, account, FIREFOX).close()
    with server.client() as cli:
        cli.headers["User-Agent"] = HEROKU
        logged_in = cli.post(
            "/oauth/authorizations",
            auth=(account.email, PASSWORD),
            json={"description": "heroku login -i"},
        )
    assert logged_in.status_code == 201, logged_in.text
    token = logged_in.json()["access_token"]["token"]
    _new_token(server, account)  # the sentinel
    mails = _wait_for(sink, made, account.email, NEW_TOKEN)
    assert sorted(mail[0] for mail in mails) == [NEW_TOKEN, NEW_SIGN_IN]
    signed_in = next(text for subject, text, _ in mails if subject == NEW_SIGN_IN)
    assert "Device: heroku on Linux" in signed_in
    assert all(token not in text + html for _, text, html in mails)


def test_a_password_change_mails_even_with_the_informational_ones_off(
    mailing: tuple[ServerProcess, Sink], made: Factory
) -> None:
    server, sink = mailing
    account = made.account("password")
    answered = _settings(server, account, new_sign_in=False, new_token=False)
    assert answered.status_code == 200, answered.text
    assert answered.json()["new_sign_in"] is False
    assert answered.json()["new_token"] is False
    browser = _sign_in(server, account, FIREFOX)
    _sign_in(server, account, CHROME_MAC).close()  # new, but turned off
    _new_token(server, account)  # turned off
    page = browser.get("/dashboard/account")
    form = hidden_fields(page.text)
    new_password = "a much longer passphrase for notifications"
    changed = browser.post(
        "/dashboard/account/password",
        data={
            "csrf_token": form["csrf_token"],
            "current_password": PASSWORD,
            "new_password": new_password,
            "new_password_confirmation": new_password,
        },
    )
    browser.close()
    assert changed.status_code == 200, changed.text
    mails = _wait_for(sink, made, account.email, PASSWORD_CHANGED)
    # One mail: the API key it regenerated is told in it, and nothing turned off came.
    assert [mail[0] for mail in mails] == [PASSWORD_CHANGED]
    _, text, html = mails[0]
    assert "API key was regenerated" in text
    assert "Device: Firefox on Linux" in text
    assert "/dashboard/account" in text
    assert "always sent" in text
    assert new_password not in text + html
    assert "ostk_" not in text + html  # the new key the page showed is in no mail


def test_a_new_token_mails_only_when_enabled_and_no_mail_holds_a_token(
    mailing: tuple[ServerProcess, Sink], made: Factory
) -> None:
    server, sink = mailing
    account = made.account("tokens")
    shown = _new_token(server, account)
    mails = _wait_for(sink, made, account.email, NEW_TOKEN)
    assert "Scopes: read" in mails[0][1]
    assert "/dashboard/tokens" in mails[0][1]
    assert "/dashboard/notifications" in mails[0][1]  # where to turn it off

    assert _settings(server, account, new_token=False).status_code == 200
    unseen = _new_token(server, account)
    with server.client(account.api_key) as api:
        regenerated = api.post("/oauth/authorizations/~/actions/regenerate-tokens")
    assert regenerated.status_code in (200, 201), regenerated.text
    new_key = regenerated.json()["access_token"]["token"]
    mails = _wait_for(sink, made, account.email, API_KEY)  # a security one: the sentinel
    assert sorted(mail[0] for mail in mails) == [NEW_TOKEN, API_KEY]
    assert "/dashboard/api-key" in next(text for subject, text, _ in mails if subject == API_KEY)
    everything = " ".join(part for index in range(len(sink.messages)) for part in sink.parts(index))
    for secret in (shown, unseen, account.api_key, new_key, PASSWORD):
        assert secret not in everything


def test_the_settings_api_refuses_what_cannot_be_turned_off(
    mailing: tuple[ServerProcess, Sink], made: Factory
) -> None:
    server, _ = mailing
    account = made.account("settings")
    with server.client(account.api_key) as api:
        shown = api.get(SETTINGS)
        assert shown.status_code == 200, shown.text
        body = shown.json()
        assert body["new_sign_in"] is True
        assert body["new_token"] is True
        assert body["mail_enabled"] is True
        assert "password-changed" in body["always_sent"]
        assert "api-key-regenerated" in body["always_sent"]
        for refused in ({"api_key": False}, {"password_changed": False}, {"newsletter": True}):
            answered = api.patch(SETTINGS, json=refused)
            assert answered.status_code == 422, answered.text
            assert answered.json()["id"] == "invalid_params"
        not_boolean = api.patch(SETTINGS, json={"new_token": "off"})
        assert not_boolean.status_code == 422
        assert not_boolean.json()["id"] == "invalid_params"
        assert api.get(SETTINGS).json()["new_token"] is True  # nothing changed


def test_the_dashboard_page_turns_informational_notifications_off_and_on(
    mailing: tuple[ServerProcess, Sink], made: Factory
) -> None:
    server, _ = mailing
    account = made.account("page")
    browser = _sign_in(server, account, FIREFOX)
    page = browser.get("/dashboard/notifications")
    assert page.status_code == 200, page.text
    assert 'name="notify" type="checkbox" value="new_sign_in" checked' in page.text
    assert 'name="notify" type="checkbox" value="new_token" checked' in page.text
    assert "Your Ostiary password was changed" in page.text  # listed as always sent
    assert 'href="/dashboard/notifications" aria-current="page"' in page.text
    csrf = hidden_fields(page.text)["csrf_token"]
    saved = browser.post(
        "/dashboard/notifications", data={"csrf_token": csrf, "notify": "new_sign_in"}
    )
    assert saved.status_code == 303
    page = browser.get("/dashboard/notifications")
    assert "saved" in page.text
    assert 'value="new_sign_in" checked' in page.text
    assert 'value="new_token" checked' not in page.text
    forged = browser.post("/dashboard/notifications", data={"csrf_token": "forged"})
    assert forged.status_code == 303
    browser.close()
    with server.client(account.api_key) as api:
        assert api.get(SETTINGS).json()["new_token"] is False
        assert api.get(SETTINGS).json()["new_sign_in"] is True  # the forged form changed nothing
        events = api.get("/account/events", params={"action": "account:notifications:update"})
    assert events.status_code in (200, 206), events.text
    assert [event["action"] for event in events.json()] == ["account:notifications:update"]


def test_the_client_library_and_the_cli_show_and_change_the_settings(
    mailing: tuple[ServerProcess, Sink], made: Factory, tmp_path: Path
) -> None:
    server, _ = mailing
    account = made.account("cli")
    with Client(server.url, token=account.api_key) as api:
        assert api.notifications.info().new_token is True
        changed = api.notifications.update(new_token=False)
        assert (changed.new_sign_in, changed.new_token) == (True, False)
        with pytest.raises(InvalidParams):
            api.request("PATCH", SETTINGS, json={"api_key": False})
    home = tmp_path / "home"
    home.mkdir()
    cli = OstiaryCLI(server, home)
    shown = cli.run("notifications", api_key=account.api_key)
    assert shown.returncode == 0, shown.stderr
    assert "new_token    off" in shown.stdout
    assert "new_sign_in  on" in shown.stdout
    assert "password-changed" in shown.stdout
    updated = cli.run(
        "notifications:update", "--new-token", "on", "--new-sign-in", "off", api_key=account.api_key
    )
    assert updated.returncode == 0, updated.stderr
    assert "new_token    on" in updated.stdout
    assert "new_sign_in  off" in updated.stdout
    nothing = cli.run("notifications:update", api_key=account.api_key)
    assert nothing.returncode != 0
    assert "at least one" in nothing.stderr
    as_json = cli.run("notifications", "--json", api_key=account.api_key)
    assert json.loads(as_json.stdout)["new_sign_in"] is False
