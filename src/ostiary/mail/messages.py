"""A mail to send, and its MIME form: a text part and an HTML alternative."""

from __future__ import annotations

from dataclasses import dataclass
from email.message import EmailMessage
from email.utils import format_datetime, make_msgid

from ostiary.clock import utcnow


@dataclass(frozen=True, slots=True)
class Mail:
    """One message to one recipient. Never holds a token, code or password."""

    to: str
    subject: str
    text: str
    html: str


def compose(mail: Mail, sender: str) -> EmailMessage:
    """The message as sent: From, To, Subject, Date, Message-ID, then text and HTML parts."""
    message = EmailMessage()
    message["From"] = sender
    message["To"] = mail.to
    # A subject is one line: a newline in it would start a header of the sender's choosing.
    message["Subject"] = " ".join(mail.subject.split())
    message["Date"] = format_datetime(utcnow())
    domain = sender.rpartition("@")[2] or "localhost"
    message["Message-ID"] = make_msgid(domain=domain)
    message.set_content(mail.text)
    message.add_alternative(mail.html, subtype="html")
    return message
