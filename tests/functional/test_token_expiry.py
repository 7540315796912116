"""Expiry that nobody misses (issue 15), on real servers: the ``Ostiary-Token-Expires`` header
on the hot route and on a FastAPI route alike, exact, and absent for a credential that never
expires; the lifecycle job's warnings delivered to the test's SMTP server and webhook receiver,
each once, with thresholds of seconds and a periodic interval of one second; an idle token
warned, revoked, recorded and then refused with 401."""

from __future__ import annotations

import json
import time
import warnings
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import httpx
import pytest
from sqlalchemy import select, update

from ostiary.client import Client, TokenExpiringWarning
from ostiary.clock import isoformat, utcnow
from ostiary.events import Event
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind
from tests.support.factories import PASSWORD, Factory, UserAccount
from tests.support.oauth_flow import hidden_fields
from tests.support.ostiary_cli import OstiaryCLI
from tests.support.polling import wait_for
from tests.support.server import ServerProcess, start_server
from tests.support.smtp_sink import Sink, smtp_sink
from tests.support.webhook_receiver import Receiver, webhook_receiver

SECRET = "the-receiver-knows-this-secret"
HEADER = "Ostiary-Token-Expires"
IDLE_AFTER = 3600
API_KEY_MAX_AGE = 3600


def _headers_of(server: ServerProcess, token: str) -> list[str | None]:
    """The header on GET /account (a hot route, served by the middleware) and on GET
    /account/rate-limits (through FastAPI)."""
    seen = []
    with server.client(token) as client:
        for path in ("/account", "/account/rate-limits"):
            answered = client.get(path)
            assert answered.status_code == 200, answered.text
            seen.append(answered.headers.get(HEADER))
    return seen


def test_the_header_names_the_expiry_on_both_paths(server: ServerProcess, factory: Factory) -> None:
    account = factory.account("expiring")
    expires_at = utcnow() + timedelta(days=3)
    _, token = factory.token(account, ["global"], expires_at=expires_at)
    assert _headers_of(server, token) == [isoformat(expires_at)] * 2


def test_the_header_is_absent_for_a_token_that_never_expires(
    server: ServerProcess, factory: Factory
) -> None:
    account = factory.account("forever")
    _, token = factory.token(account, ["global"])
    assert _headers_of(server, token) == [None, None]
    # The API key, with no OSTIARY_API_KEY_MAX_AGE on this server, never expires either.
    assert _headers_of(server, account.api_key) == [None, None]


def test_the_header_is_absent_on_a_refused_request(server: ServerProcess, factory: Factory) -> None:
    account = factory.account("refused")
    _, token = factory.token(account, ["global"], expires_at=utcnow() - timedelta(seconds=1))
    with server.client(token) as client:
        refused = client.get("/account")
    assert refused.status_code == 401
    assert HEADER not in refused.headers


def test_the_client_library_warns_once_when_its_token_expires_within_a_week(
    server: ServerProcess, factory: Factory
) -> None:
    account = factory.account("library")
    expires_at = utcnow() + timedelta(days=3)
    _, token = factory.token(account, ["global"], expires_at=expires_at)
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        with Client(server.url, token=token) as api:
            api.account()
            api.account()
            list(api.apps.list())
    told = [w for w in caught if issubclass(w.category, TokenExpiringWarning)]
    assert len(told) == 1, [str(w.message) for w in caught]
    message = str(told[0].message)
    assert "in 3 days" in message
    assert expires_at.strftime("%Y-%m-%d %H:%M:%S UTC") in message
    assert "ostiary authorizations:rotate" in message
    assert api.token_expires_at == expires_at


def test_the_client_library_says_nothing_for_a_token_with_time_left(
    server: ServerProcess, factory: Factory
) -> None:
    account = factory.account("library-calm")
    expires_at = utcnow() + timedelta(days=8)
    _, token = factory.token(account, ["global"], expires_at=expires_at)
    _, forever = factory.token(account, ["global"])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        for each in (token, forever, account.api_key):
            with Client(server.url, token=each) as api:
                api.account()
    assert [w for w in caught if issubclass(w.category, TokenExpiringWarning)] == []


def test_the_cli_warns_once_per_command_on_stderr(
    server: ServerProcess, factory: Factory, tmp_path: Path
) -> None:
    account = factory.account("cli")
    expires_at = utcnow() + timedelta(days=3)
    _, token = factory.token(account, ["global"], expires_at=expires_at)
    home = tmp_path / "home"
    home.mkdir()
    cli = OstiaryCLI(server, home)
    created = cli.run("apps:create", "expiry-cli-app", api_key=token)
    assert created.returncode == 0, created.stderr
    # apps:info reads the app and its details: several requests, one warning.
    for command in (("apps",), ("apps:info", "-a", "expiry-cli-app"), ("auth:whoami",)):
        result = cli.run(*command, api_key=token)
        assert result.returncode == 0, result.stderr
        warned = [line for line in result.stderr.splitlines() if line.startswith("Warning:")]
        assert len(warned) == 1, result.stderr
        assert "expires in 3 days" in warned[0]
        assert expires_at.strftime("%Y-%m-%d %H:%M:%S UTC") in warned[0]
        assert "Traceback" not in result.stderr
    calm = cli.run("apps", api_key=account.api_key)
    assert calm.returncode == 0, calm.stderr
    assert "Warning" not in calm.stderr


def _expiring_section(server: ServerProcess, account: UserAccount) -> str:
    """The tokens page's "Expiring in the next 30 days" section, as the signed-in owner sees it
    ("" when the page has none)."""
    with httpx.Client(base_url=server.url, follow_redirects=False, timeout=30) as browser:
        form = hidden_fields(browser.get("/login").text)
        signed_in = browser.post(
            "/login", data={**form, "email": account.email, "password": PASSWORD}
        )
        assert signed_in.status_code == 303, signed_in.text
        page = browser.get("/dashboard/tokens")
        assert page.status_code == 200, page.text
    start = page.text.find('id="expiring-heading"')
    return "" if start < 0 else page.text[start : page.text.index("</section>", start)]


def test_the_dashboard_lists_what_expires_in_the_next_30_days(
    server: ServerProcess, factory: Factory
) -> None:
    account = factory.account("dashboard-expiry")
    assert _expiring_section(server, account) == ""
    soon_at = utcnow() + timedelta(days=3)
    soon_id, _ = factory.token(account, ["global"], expires_at=soon_at)
    later_id, _ = factory.token(account, ["global"], expires_at=utcnow() + timedelta(days=40))
    forever_id, _ = factory.token(account, ["global"])
    section = _expiring_section(server, account)
    assert f'href="/dashboard/tokens/{soon_id}">Rotate</a>' in section
    assert soon_at.strftime("%Y-%m-%d %H:%M UTC") in section
    assert "in 2 days" in section or "in 3 days" in section
    assert later_id not in section
    assert forever_id not in section
    # The API key never expires on this server: not listed.
    assert "/dashboard/api-key" not in section


@pytest.fixture
def lifecycle_server(tmp_path: Path) -> Iterator[tuple[ServerProcess, Receiver, Sink]]:
    """A server of two workers whose lifecycle job runs every second, warns 20 and 10 seconds
    before an expiry and 12 seconds before an idle revocation (after an hour unused), with API
    keys aged an hour at most; mail to the test's SMTP server."""
    with smtp_sink() as sink, webhook_receiver() as receiver:
        server = start_server(
            tmp_path / "server",
            settings={
                "OSTIARY_PERIODIC_INTERVAL": "1",
                "OSTIARY_EXPIRY_WARNINGS": "20s,10s",
                "OSTIARY_TOKEN_IDLE_REVOKE_AFTER": str(IDLE_AFTER),
                "OSTIARY_IDLE_REVOCATION_WARNING": "12s",
                "OSTIARY_API_KEY_MAX_AGE": f"{API_KEY_MAX_AGE}s",
                "OSTIARY_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
                "OSTIARY_MAIL_FROM": "ostiary@example.test",
                "OSTIARY_ACCESS_LOG": "off",
                "OSTIARY_WEBHOOK_ALLOW_LOOPBACK": "true",
                # The test reads the alerts every 0.2 s for half a minute: not a spike of use.
                "OSTIARY_ALERT_SPIKE_FLOOR": "100000",
            },
            # Two workers run the job at the same moments: each warning still goes once.
            workers=2,
        )
        try:
            yield server, receiver, sink
        finally:
            server.stop()


def _alerts(server: ServerProcess, reader: str) -> list[dict[str, object]]:
    with server.client(reader) as client:
        listed = client.get("/account/alerts")
        assert listed.status_code in (200, 206), listed.text
        alerts: list[dict[str, object]] = listed.json()
        return alerts


def _lifecycle_deliveries(receiver: Receiver) -> list[dict[str, object]]:
    with receiver.lock:
        received = list(receiver.received)
    assert all(delivery.signed_with(SECRET) for delivery in received)
    bodies = [json.loads(delivery.body) for delivery in received]
    return [body for body in bodies if body["action"] != "alert:dead-credential"]


def test_warnings_reach_the_mail_and_the_webhook_once_each_and_idle_tokens_are_revoked(
    lifecycle_server: tuple[ServerProcess, Receiver, Sink],
) -> None:
    server, receiver, sink = lifecycle_server
    factory = Factory(server.data_dir)
    account = factory.account("lifecycle")
    with server.client(account.api_key) as client:
        created = client.post(
            "/account/webhooks",
            json={"url": receiver.url, "include": ["alert"], "level": "notify", "secret": SECRET},
        )
        assert created.status_code == 201, created.text
    # Reads the alerts: the API key itself is past its age (and refused) by the end.
    _, reader = factory.token(account, ["global"])
    started = utcnow()
    # Expires in 28 s: warned 20 s and 10 s before (windows of ten seconds, so a loaded machine
    # still runs the job in each), then told it expired.
    expires_at = started + timedelta(seconds=28)
    _, expiring = factory.token(account, ["global"], expires_at=expires_at)
    # Last used an hour ago less 20 s: warned (12 s before), then revoked.
    idle_id, idle = factory.token(account, ["global"])
    # The API key, made an hour ago less 28 s: its age runs out like the token's expiry.
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(Authorization)
            .where(Authorization.id == idle_id)
            .values(last_used_at=started - timedelta(seconds=IDLE_AFTER - 20))
        )
        api_key = (
            select(Authorization.id)
            .where(
                Authorization.account_id == account.id,
                Authorization.kind == AuthorizationKind.API_KEY,
            )
            .scalar_subquery()
        )
        session.execute(
            update(AccessToken)
            .where(AccessToken.authorization_id == api_key)
            .values(created_at=expires_at - timedelta(seconds=API_KEY_MAX_AGE))
        )
    # The API key's expiry is its current token's issue plus the maximum age, on both paths, and the
    # dashboard lists it with the way to regenerate it.
    assert _headers_of(server, account.api_key) == [isoformat(expires_at)] * 2
    assert 'href="/dashboard/api-key">Regenerate</a>' in _expiring_section(server, account)
    assert _headers_of(server, expiring) == [isoformat(expires_at)] * 2

    expected = {"expiring": 4, "expired": 2, "idle-revocation": 1, "idle-revoked": 1}
    total = sum(expected.values())

    def raised() -> dict[str, int]:
        counted: dict[str, int] = {}
        for alert in _alerts(server, reader):
            counted[str(alert["rule"])] = counted.get(str(alert["rule"]), 0) + 1
        counted.pop("dead-credential", None)
        return counted

    wait_for("every lifecycle alert", lambda: raised() == expected, timeout=90)
    wait_for("their deliveries", lambda: len(_lifecycle_deliveries(receiver)) >= total)
    wait_for("their mails", lambda: len(sink.messages) >= total)

    # The idle token is refused now, and the revocation is recorded.
    with server.client(idle) as client:
        assert client.get("/account").status_code == 401
    with factory.database.unit_of_work(write=False) as session:
        revoked_at = session.scalar(
            select(Authorization.revoked_at).where(Authorization.id == idle_id)
        )
        recorded = session.scalars(
            select(Event.action).where(
                Event.target_id == idle_id, Event.action == "token:authorization:idle-revoke"
            )
        ).all()
    assert revoked_at is not None
    assert recorded == ["token:authorization:idle-revoke"]

    # The job keeps running every second: nothing is raised, delivered or mailed twice.
    time.sleep(3)
    assert raised() == expected
    deliveries = _lifecycle_deliveries(receiver)
    assert sorted(str(d["action"]) for d in deliveries) == sorted(
        f"alert:{rule}" for rule, count in expected.items() for _ in range(count)
    )
    mails = range(len(sink.messages))
    lifecycle_mails = [index for index in mails if "presented again" not in sink.parts(index)[0]]
    assert len(lifecycle_mails) == total
    assert all(recipients == [account.email] for recipients in sink.recipients)
    texts = " ".join(sink.parts(index)[0] for index in lifecycle_mails)
    assert "expires in" in texts
    assert str(isoformat(expires_at)) in texts
    for delivery in receiver.received:
        for secret in (expiring, idle, reader, account.api_key, SECRET):
            assert secret.encode() not in delivery.body
    assert "periodic job 'token lifecycle' failed" not in server.log()
    factory.close()
