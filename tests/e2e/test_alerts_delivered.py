"""Issue 14's watching half, end to end on a real server: a spike, a new network, a dormant
credential and a revoked token presented each raise their alert once, and each alert reaches
the owner three ways: listed unseen for the dashboard's notice (``/account/alerts``), delivered
to the account's webhook (a receiver this test runs, the signature checked with the secret),
and mailed (an SMTP server this test runs). Triggering the same findings again raises nothing
more. The usage flush runs every half second, so the whole chain (request -> usage flush ->
alert -> sealed event -> delivery and mail) is what is measured, not a shortcut into it."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from ostiary.clock import utcnow
from ostiary.tokens.models import Authorization
from ostiary.usage.models import UsageHour
from tests.support.factories import Factory, UserAccount
from tests.support.polling import wait_for
from tests.support.server import ServerProcess, start_server
from tests.support.smtp_sink import Sink, smtp_sink
from tests.support.webhook_receiver import Receiver, webhook_receiver

SECRET = "the-receiver-knows-this-secret"
SPIKE_FLOOR = 40
RULES = {"spike", "new-network", "dormant-use", "dead-credential"}


@pytest.fixture
def watched(tmp_path: Path) -> Iterator[tuple[ServerProcess, Receiver, Sink]]:
    """A server that flushes usage every half second, mails through the test's SMTP server and
    believes X-Forwarded-For from loopback (so one test can speak from several networks)."""
    with smtp_sink() as sink, webhook_receiver() as receiver:
        server = start_server(
            tmp_path / "server",
            settings={
                "OSTIARY_USAGE_FLUSH_SECONDS": "0.5",
                "OSTIARY_ALERT_SPIKE_FLOOR": str(SPIKE_FLOOR),
                "OSTIARY_SMTP_URL": f"smtp://127.0.0.1:{sink.port}",
                "OSTIARY_MAIL_FROM": "ostiary@example.test",
                "OSTIARY_TRUSTED_PROXIES": "127.0.0.1",
                "OSTIARY_ACCESS_LOG": "off",
                "OSTIARY_WEBHOOK_ALLOW_LOOPBACK": "true",  # the receiver runs here
            },
        )
        try:
            yield server, receiver, sink
        finally:
            server.stop()


def _use(server: ServerProcess, token: str, address: str, times: int = 1) -> None:
    with server.client(token) as client:
        for _ in range(times):
            relayed = {"X-Forwarded-For": address, "X-Forwarded-Proto": "https"}
            used = client.get("/account", headers=relayed)
            assert used.status_code == 200, used.text


def _used(factory: Factory, authorization_id: str) -> int:
    """How many uses of the authorization the server has flushed so far, read from the
    database: asking the API would be a use of the reader's credential (and a spike of its own,
    polled)."""
    with factory.database.unit_of_work(write=False) as session:
        total = session.scalar(
            select(func.sum(UsageHour.count)).where(UsageHour.authorization_id == authorization_id)
        )
    return int(total or 0)


def _alerts(server: ServerProcess, account: UserAccount) -> list[dict[str, object]]:
    with server.client(account.api_key) as client:
        listed = client.get("/account/alerts")
        assert listed.status_code in (200, 206), listed.text
        alerts: list[dict[str, object]] = listed.json()
        return alerts


def _alert_deliveries(receiver: Receiver) -> list[dict[str, object]]:
    with receiver.lock:
        received = list(receiver.received)
    assert all(delivery.signed_with(SECRET) for delivery in received), "every delivery signed"
    return [json.loads(delivery.body) for delivery in received]


def test_each_finding_raises_one_alert_to_the_dashboard_the_webhook_and_the_mail(
    watched: tuple[ServerProcess, Receiver, Sink],
) -> None:
    server, receiver, sink = watched
    factory = Factory(server.data_dir)
    account = factory.account("watched")
    with server.client(account.api_key) as client:
        created = client.post(
            "/account/webhooks",
            json={"url": receiver.url, "include": ["alert"], "level": "notify", "secret": SECRET},
        )
        assert created.status_code == 201, created.text

    # A new network: first use from one /24, then, after a flush, from another.
    roaming_id, roaming = factory.token(account, ["global"])
    _use(server, roaming, "203.0.113.5")
    wait_for("the first network's use flushed", lambda: _used(factory, roaming_id) >= 1)
    _use(server, roaming, "198.51.100.7")
    # A spike: more than the floor in the hour, for a credential with no history (median 0).
    _, busy = factory.token(account, ["global"])
    _use(server, busy, "203.0.113.9", times=SPIKE_FLOOR + 5)
    # A dormant credential: last used 40 days ago, used again.
    dormant_id, dormant = factory.token(account, ["global"])
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(Authorization)
            .where(Authorization.id == dormant_id)
            .values(last_used_at=utcnow() - timedelta(days=40))
        )
    _use(server, dormant, "203.0.113.5")
    # A dead credential: revoked by its owner, then presented again.
    revoked_id, revoked = factory.token(account, ["global"])
    with server.client(account.api_key) as client:
        assert client.delete(f"/oauth/authorizations/{revoked_id}").status_code == 200
    with server.client(revoked) as client:
        assert client.get("/account").status_code == 401

    wait_for("four alerts", lambda: {a["rule"] for a in _alerts(server, account)} >= RULES)
    wait_for("four deliveries", lambda: len(_alert_deliveries(receiver)) >= len(RULES))
    wait_for("four mails", lambda: len(sink.messages) >= len(RULES))

    # The same findings again: another address of the same /24, more of the same use, the dead
    # token once more. Nothing new may be raised, delivered or mailed.
    _use(server, roaming, "198.51.100.8")
    _use(server, busy, "203.0.113.9", times=5)
    with server.client(revoked) as client:
        assert client.get("/account").status_code == 401
    # Flushed (any alert would be raised in that transaction), then a few runs of the sealing and
    # the sending for a delivery or mail that should not come.
    wait_for("the repeated use flushed", lambda: _used(factory, roaming_id) >= 3)
    time.sleep(3)

    alerts = _alerts(server, account)
    assert sorted(str(alert["rule"]) for alert in alerts) == sorted(RULES)
    assert all(alert["seen_at"] is None for alert in alerts), "unseen: the dashboard's notice"

    deliveries = _alert_deliveries(receiver)
    assert sorted(str(d["action"]) for d in deliveries) == sorted(f"alert:{r}" for r in RULES)
    assert {str(d["resource"]) for d in deliveries} == {"alert"}

    assert len(sink.messages) == len(RULES)
    assert all(recipients == [account.email] for recipients in sink.recipients)
    for index in range(len(sink.messages)):
        text, html = sink.parts(index)
        for secret in (roaming, busy, dormant, revoked, account.api_key, SECRET):
            assert secret not in text
            assert secret not in html
    for delivery in receiver.received:
        for secret in (roaming, busy, dormant, revoked, account.api_key, SECRET):
            assert secret.encode() not in delivery.body
    factory.close()
