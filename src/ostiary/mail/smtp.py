"""The SMTP server of ``OSTIARY_SMTP_URL`` and the :class:`Mailer` that sends through it.

``smtp://[user:pass@]host[:port]`` connects in plain text (port 25 by default) and, with
``?starttls=true``, upgrades the connection before anything else is said (port 587 is then the
default); ``smtps://`` speaks TLS from the first byte (port 465). Certificates are checked
against the system's authorities. The password lives in the :class:`SmtpServer` only (never in
its repr or :meth:`SmtpServer.describe`), and an error names the server without it.
"""

from __future__ import annotations

import smtplib
import ssl
from dataclasses import dataclass, field
from typing import Literal
from urllib.parse import parse_qs, unquote, urlsplit

from ostiary.config import Settings
from ostiary.mail.messages import Mail, compose

Security = Literal["none", "starttls", "tls"]
_TRUE = ("1", "true", "yes", "on")
_DEFAULT_PORTS: dict[Security, int] = {"none": 25, "starttls": 587, "tls": 465}


class MailError(Exception):
    """Mail could not be sent (or the SMTP URL is unusable); the message never holds the
    server's password."""


@dataclass(frozen=True, slots=True)
class SmtpServer:
    """Where and how to send."""

    host: str
    port: int
    security: Security
    username: str | None = None
    password: str | None = field(default=None, repr=False)

    def describe(self) -> str:
        """The server for a log line or ``ostiary check``: no password."""
        scheme = "smtps" if self.security == "tls" else "smtp"
        user = f"{self.username}@" if self.username else ""
        suffix = " with STARTTLS" if self.security == "starttls" else ""
        return f"{scheme}://{user}{self.host}:{self.port}{suffix}"


def parse_smtp_url(url: str) -> SmtpServer:
    """An :class:`SmtpServer` from ``OSTIARY_SMTP_URL``; :class:`MailError` when unusable."""
    try:
        parts = urlsplit(url.strip())
        port = parts.port
    except ValueError as error:
        raise MailError("OSTIARY_SMTP_URL is not a valid URL (its port?).") from error
    if parts.scheme not in ("smtp", "smtps"):
        raise MailError("OSTIARY_SMTP_URL must start with smtp:// or smtps://.")
    if not parts.hostname:
        raise MailError("OSTIARY_SMTP_URL names no host.")
    options = parse_qs(parts.query)
    starttls = options.get("starttls", ["false"])[-1].lower() in _TRUE
    if parts.scheme == "smtps" and starttls:
        raise MailError("smtps:// is TLS from the start: it takes no ?starttls.")
    security: Security = "tls" if parts.scheme == "smtps" else "starttls" if starttls else "none"
    return SmtpServer(
        host=parts.hostname,
        port=port or _DEFAULT_PORTS[security],
        security=security,
        username=unquote(parts.username) if parts.username else None,
        password=unquote(parts.password) if parts.password is not None else None,
    )


class Mailer:
    """Sends :class:`Mail` through one SMTP server; blocking, for jobs (threads) only."""

    def __init__(
        self,
        server: SmtpServer,
        sender: str,
        *,
        timeout: float = 10.0,
        tls_context: ssl.SSLContext | None = None,
    ) -> None:
        self.server = server
        self.sender = sender
        self._timeout = timeout
        self._tls = tls_context or ssl.create_default_context()

    def _connect(self) -> smtplib.SMTP:
        server = self.server
        if server.security == "tls":
            return smtplib.SMTP_SSL(
                server.host, server.port, timeout=self._timeout, context=self._tls
            )
        connection = smtplib.SMTP(server.host, server.port, timeout=self._timeout)
        if server.security == "starttls":
            connection.starttls(context=self._tls)
        return connection

    def send(self, mail: Mail) -> None:
        """Send one mail; :class:`MailError` names what failed, never with the password."""
        server = self.server
        try:
            message = compose(mail, self.sender)
        except (ValueError, TypeError) as error:
            # A header the email package refuses (a newline in an address): never sendable.
            raise MailError(
                f"The message could not be composed ({type(error).__name__})."
            ) from None
        try:
            with self._connect() as connection:
                if server.username is not None:
                    connection.login(server.username, server.password or "")
                connection.send_message(message)
        except smtplib.SMTPAuthenticationError as error:
            raise MailError(
                f"{server.describe()} refused the credentials ({error.smtp_code})."
            ) from None
        except smtplib.SMTPResponseException as error:
            raise MailError(f"{server.describe()} answered {error.smtp_code}.") from None
        except (smtplib.SMTPException, OSError) as error:
            # The class only: a library's message could quote what was sent.
            raise MailError(f"{server.describe()}: {type(error).__name__}.") from None


def mailer_from(settings: Settings) -> Mailer | None:
    """The configured :class:`Mailer`, or None when ``OSTIARY_SMTP_URL`` is not set."""
    if settings.smtp_url is None:
        return None
    server = parse_smtp_url(settings.smtp_url.get_secret_value())
    return Mailer(server, settings.mail_from)
