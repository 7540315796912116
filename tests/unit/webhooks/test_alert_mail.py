"""Alert mail: queued in the outbox with its alert, sent by the mail job through a real SMTP
server on loopback, retried while the server is away; nothing queued without SMTP."""

from __future__ import annotations

import logging
from dataclasses import replace
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select

from ostiary.clock import utcnow
from ostiary.config import load_settings
from ostiary.mail.smtp import Mailer, parse_smtp_url
from ostiary.security.tokens import TokenKind, mint_token
from ostiary.webhooks.alert_mail import (
    AGENT_MAX,
    alert_mail,
    alert_mail_enqueuer,
    described_agent,
    enqueue_alert_mail,
)
from ostiary.webhooks.jobs import sealed_event_subscribers
from ostiary.webhooks.outbox import OutboxMail, send_due_mail
from tests.support.server import free_port
from tests.support.smtp_sink import smtp_sink
from tests.unit.webhooks.conftest import World, logged

LINK = "https://id.example.com/dashboard/tokens"


def _queue(world: World, *events: object) -> int:
    with world.database.unit_of_work(write=True) as session:
        return enqueue_alert_mail(
            session,
            events,  # type: ignore[arg-type]
            link=LINK,
            retry_window=timedelta(hours=24),
        )


def _outbox(world: World) -> list[OutboxMail]:
    with world.database.unit_of_work(write=False) as session:
        return list(session.scalars(select(OutboxMail)))


def test_an_alert_is_mailed_to_the_owner_with_what_when_where_and_a_link(world: World) -> None:
    token = mint_token(TokenKind.API_KEY)
    alert = logged(
        world.alice, "alert:new-network", details={"network": "198.51.100.0/24", "token": token}
    )
    assert _queue(world, alert, logged(world.alice, "auth:login")) == 1  # alerts only
    with smtp_sink(credentials=("ostiary", "mail-password")) as sink:
        url = f"smtp://ostiary:mail-password@127.0.0.1:{sink.port}"
        run = send_due_mail(world.database, Mailer(parse_smtp_url(url), "alerts@example.org"))
    assert run.sent == 1
    [message] = sink.messages
    assert sink.recipients == [["alice@example.com"]]
    assert message["Subject"] == "Ostiary alert: a credential used from a new network"
    text, html = sink.parts()
    for part in (text, html):
        assert "203.0.113.5" in part  # from where
        assert "Firefox on Linux" in part  # with what
        assert alert.created_at.strftime("%Y-%m-%d %H:%M:%S UTC") in part  # when
        assert "198.51.100.0/24" in part
        assert "a network it had not used before" in part  # what happened
        assert LINK in part
        assert token not in part
        assert "mail-password" not in part
    assert f'<a href="{LINK}">' in html
    [row] = _outbox(world)
    assert row.status == "sent"
    assert row.num_attempts == 1


def test_mail_is_retried_while_the_server_is_away(
    world: World, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.INFO)
    _queue(world, logged(world.alice, "alert:dead-credential"))
    port = free_port()
    mailer = Mailer(parse_smtp_url(f"smtp://u:hunter2-pw@127.0.0.1:{port}"), "a@example.org")
    now = utcnow()
    assert send_due_mail(world.database, mailer, now=now).failed == 1
    [row] = _outbox(world)
    assert row.status == "retrying"
    assert row.next_attempt_at is not None
    assert row.next_attempt_at - now >= timedelta(seconds=15)
    assert send_due_mail(world.database, mailer, now=now).failed == 0  # not due yet
    assert "hunter2-pw" not in caplog.text
    assert "hunter2-pw" not in (row.last_error or "")
    with smtp_sink() as sink:
        mailer = Mailer(parse_smtp_url(f"smtp://127.0.0.1:{sink.port}"), "a@example.org")
        assert send_due_mail(world.database, mailer, now=row.next_attempt_at).sent == 1
    assert len(sink.messages) == 1
    [row] = _outbox(world)
    assert row.status == "sent"
    assert row.num_attempts == 2


def test_without_smtp_nothing_is_queued(tmp_path: Path) -> None:
    off = load_settings(data_dir=tmp_path)
    assert alert_mail_enqueuer(off) is None
    assert len(sealed_event_subscribers(off)) == 1  # the webhook deliveries only
    on = load_settings(data_dir=tmp_path, smtp_url="smtp://127.0.0.1:2525")
    assert alert_mail_enqueuer(on) is not None
    assert len(sealed_event_subscribers(on)) == 2


def test_the_mail_names_the_agent_never_the_user_agent_the_caller_chose() -> None:
    # Anyone holding a token chooses the User-Agent: a phishing line in an Ostiary mail.
    lure = "Firefox/128.0 URGENT: your account is locked, sign in at https://evil.example/reset"
    event = replace(
        logged(
            "acct",
            "alert:new-user-agent",
            details={"family": "x" * 300, "user_agent": lure},
        ),
        user_agent=lure,
    )
    mail = alert_mail(event, "alice@example.com", LINK)
    for part in (mail.text, mail.html):
        assert "evil.example" not in part
        assert "URGENT" not in part
        assert "x" * (AGENT_MAX + 1) not in part
    assert described_agent(lure) in mail.text
    assert len(described_agent("Z" + "a" * 500)) <= AGENT_MAX


def test_a_lifecycle_notice_is_mailed_as_a_notice_not_as_unusual_activity() -> None:
    event = logged(
        "acct", "alert:expiring", details={"days": 7, "expires_at": "2026-12-08T00:00:00Z"}
    )
    mail = alert_mail(event, "alice@example.com", LINK)
    assert mail.subject == "Ostiary notice: a credential expires soon"
    assert "unusual activity" not in mail.text
    assert "a credential expires soon" in mail.text
    assert "2026-12-08T00:00:00Z" in mail.text
    assert LINK in mail.text
    assert LINK in mail.html
    unusual = alert_mail(logged("acct", "alert:spike"), "alice@example.com", LINK)
    assert unusual.subject.startswith("Ostiary alert: ")
    assert "unusual activity" in unusual.text
