"""A real SMTP server for tests (aiosmtpd on 127.0.0.1): it keeps every message it receives,
parsed, so a test reads what a recipient would."""

from __future__ import annotations

import ssl
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword

from tests.support.server import free_port


@dataclass
class Sink:
    """The running server: its port and the messages it received, with their envelopes."""

    port: int
    messages: list[EmailMessage] = field(default_factory=list)
    recipients: list[list[str]] = field(default_factory=list)
    logins: list[tuple[str, str]] = field(default_factory=list)

    def parts(self, index: int = -1) -> tuple[str, str]:
        """The text and HTML parts of a received message."""
        message = self.messages[index]
        text = message.get_body(preferencelist=("plain",))
        html = message.get_body(preferencelist=("html",))
        assert text is not None, "a text part"
        assert html is not None, "an HTML part"
        return str(text.get_content()), str(html.get_content())


class _Handler:
    def __init__(self, sink: Sink) -> None:
        self.sink = sink

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        parsed = message_from_bytes(envelope.original_content, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        self.sink.messages.append(parsed)
        self.sink.recipients.append(list(envelope.rcpt_tos))
        return "250 OK"


@contextmanager
def smtp_sink(
    credentials: tuple[str, str] | None = None,
    *,
    tls: ssl.SSLContext | None = None,
    implicit_tls: bool = False,
) -> Iterator[Sink]:
    """Run an SMTP server on loopback for the block; with ``credentials``, it accepts AUTH
    with those only. With ``tls`` (a server context), it requires STARTTLS before anything
    else, or with ``implicit_tls`` speaks TLS from the first byte (smtps)."""
    sink = Sink(port=free_port())
    kwargs: dict[str, Any] = {}
    if credentials is not None:

        def authenticate(
            server: Any, session: Any, envelope: Any, mechanism: str, data: Any
        ) -> AuthResult:
            if isinstance(data, LoginPassword):
                login = (data.login.decode(), data.password.decode())
                sink.logins.append(login)
                return AuthResult(success=login == credentials, auth_data=data)
            return AuthResult(success=False)

        # AUTH offered over plain text (only a loopback test may); not "required", which makes
        # aiosmtpd warn on every connection. The test checks that the login happened.
        kwargs = {"authenticator": authenticate, "auth_require_tls": False}
    if tls is not None and implicit_tls:
        kwargs["ssl_context"] = tls
    elif tls is not None:
        kwargs |= {"tls_context": tls, "require_starttls": True}
    controller = Controller(_Handler(sink), hostname="127.0.0.1", port=sink.port, **kwargs)
    controller.start()
    try:
        yield sink
    finally:
        controller.stop()
