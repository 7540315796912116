"""Mail through a real SMTP server on loopback (aiosmtpd): what the recipient gets, and the
SMTP URL's forms. No password in any error or log line."""

from __future__ import annotations

import logging
import ssl
from pathlib import Path

import pytest

from ostiary.mail.messages import Mail
from ostiary.mail.smtp import Mailer, MailError, SmtpServer, parse_smtp_url
from ostiary.security.tls import ensure_self_signed
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


@pytest.fixture
def certificate(tmp_path: Path) -> tuple[ssl.SSLContext, ssl.SSLContext]:
    """A server context with a self-signed certificate for 127.0.0.1, and a client context
    that trusts exactly it."""
    cert, key = tmp_path / "cert.pem", tmp_path / "key.pem"
    ensure_self_signed(cert, key)
    server = ssl.create_default_context(ssl.Purpose.CLIENT_AUTH)
    server.load_cert_chain(cert, key)
    return server, ssl.create_default_context(cafile=str(cert))


def test_starttls_upgrades_before_the_credentials_are_sent(
    certificate: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_tls, client_tls = certificate
    with smtp_sink(credentials=("mailer", "pw"), tls=server_tls) as sink:
        url = f"smtp://mailer:pw@127.0.0.1:{sink.port}?starttls=true"
        Mailer(parse_smtp_url(url), "o@example.org", tls_context=client_tls).send(MAIL)
        # Without STARTTLS the same server refuses to go on (it requires it).
        plain = f"smtp://127.0.0.1:{sink.port}"
        with pytest.raises(MailError):
            Mailer(parse_smtp_url(plain), "o@example.org").send(MAIL)
    assert sink.logins == [("mailer", "pw")]
    assert len(sink.messages) == 1


def test_smtps_speaks_tls_from_the_start_and_checks_the_certificate(
    certificate: tuple[ssl.SSLContext, ssl.SSLContext],
) -> None:
    server_tls, client_tls = certificate
    with smtp_sink(tls=server_tls, implicit_tls=True) as sink:
        url = f"smtps://127.0.0.1:{sink.port}"
        Mailer(parse_smtp_url(url), "o@example.org", tls_context=client_tls).send(MAIL)
        # The system's authorities do not know this self-signed certificate: refused.
        with pytest.raises(MailError):
            Mailer(parse_smtp_url(url), "o@example.org").send(MAIL)
    assert len(sink.messages) == 1
