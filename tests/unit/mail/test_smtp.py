"""Mail through a real SMTP server on loopback (aiosmtpd): what the recipient gets, and the
SMTP URL's forms. No password in any error or log line."""

from __future__ import annotations

import logging

import pytest

from ostiary.mail.messages import Mail
from ostiary.mail.smtp import Mailer, MailError, SmtpServer, parse_smtp_url
from tests.support.server import free_port
from tests.support.smtp_sink import smtp_sink

MAIL = Mail(
    to="owner@example.com",
    subject="Ostiary alert: something\r\nBcc: attacker@example.com",
    text="Plain words.",
    html="<p>Rich <b>words</b>.</p>",
)


def test_a_mail_arrives_with_its_text_and_html_parts() -> None:
    with smtp_sink() as sink:
        Mailer(parse_smtp_url(f"smtp://127.0.0.1:{sink.port}"), "ostiary@example.org").send(MAIL)
    [message] = sink.messages
    assert sink.recipients == [["owner@example.com"]]
    assert message["To"] == "owner@example.com"
    assert message["From"] == "ostiary@example.org"
    # The subject stays one header: a newline in it cannot add a recipient.
    assert message["Subject"] == "Ostiary alert: something Bcc: attacker@example.com"
    assert message["Bcc"] is None
    assert message["Message-ID"]
    assert message["Date"]
    text, html = sink.parts()
    assert (text.strip(), html.strip()) == ("Plain words.", "<p>Rich <b>words</b>.</p>")


def test_credentials_from_the_url_log_in() -> None:
    with smtp_sink(credentials=("mailer", "p@ss word")) as sink:
        url = f"smtp://mailer:p%40ss%20word@127.0.0.1:{sink.port}"
        Mailer(parse_smtp_url(url), "ostiary@example.org").send(MAIL)
    assert sink.logins == [("mailer", "p@ss word")]
    assert len(sink.messages) == 1


def test_refused_credentials_fail_without_the_password(caplog: pytest.LogCaptureFixture) -> None:
    caplog.set_level(logging.DEBUG)
    with smtp_sink(credentials=("mailer", "right")) as sink:
        server = parse_smtp_url(f"smtp://mailer:wrong-password@127.0.0.1:{sink.port}")
        with pytest.raises(MailError) as refused:
            Mailer(server, "ostiary@example.org").send(MAIL)
    assert sink.messages == []
    assert "wrong-password" not in str(refused.value)
    assert "wrong-password" not in repr(server)
    assert "wrong-password" not in server.describe()
    assert "wrong-password" not in caplog.text


def test_an_unreachable_server_is_a_mail_error() -> None:
    server = parse_smtp_url(f"smtp://u:secret-pw@127.0.0.1:{free_port()}")
    with pytest.raises(MailError) as failed:
        Mailer(server, "ostiary@example.org", timeout=2).send(MAIL)
    assert "secret-pw" not in str(failed.value)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("smtp://mail.example.com", SmtpServer("mail.example.com", 25, "none")),
        (
            "smtp://u:p@mail.example.com?starttls=true",
            SmtpServer("mail.example.com", 587, "starttls", "u", "p"),
        ),
        (
            "smtp://mail.example.com:2525?starttls=yes",
            SmtpServer("mail.example.com", 2525, "starttls"),
        ),
        (
            "smtps://u%40x:p%2Fq@mail.example.com",
            SmtpServer("mail.example.com", 465, "tls", "u@x", "p/q"),
        ),
    ],
)
def test_smtp_urls(url: str, expected: SmtpServer) -> None:
    assert parse_smtp_url(url) == expected


@pytest.mark.parametrize(
    "url",
    ["http://mail.example.com", "smtp://", "smtp://host:notaport", "smtps://h?starttls=true", ""],
)
def test_unusable_smtp_urls(url: str) -> None:
    with pytest.raises(MailError):
        parse_smtp_url(url)


def test_a_recipient_with_a_newline_is_refused_not_sent() -> None:
    with smtp_sink() as sink:
        mailer = Mailer(parse_smtp_url(f"smtp://127.0.0.1:{sink.port}"), "ostiary@example.org")
        bad = Mail("victim@example.com\nBcc: attacker@example.com", "s", "t", "<p>h</p>")
        with pytest.raises(MailError):
            mailer.send(bad)
    assert sink.messages == []
