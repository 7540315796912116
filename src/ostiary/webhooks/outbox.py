"""The mail outbox: mail queued in a transaction, sent later by a job, retried on failure.

Only the database layer and ``ostiary.mail`` are used here, so the outbox can move below the
domain packages (issue 16's account mail) without change. Queuing writes a row in the caller's
transaction, so a mail exists exactly when what it tells of was committed. The sender claims due
rows with a lease (``webhooks.leases``), sends each outside any transaction, and records the
outcome; a failure is retried with backoff until ``give_up_at``.

A mail that carries a one-time link is queued ``sealed``
(``security.sealing.mail_body_sealer``): its bodies are stored encrypted, opened only by the
sender, and erased once it is sent or given up, so the table never shows a usable link
(docs/account-recovery.md).
"""

from __future__ import annotations

import logging
from dataclasses import dataclass
from datetime import datetime, timedelta

from sqlalchemy import String, Text, select, update
from sqlalchemy.orm import Mapped, Session, mapped_column

from ostiary.clock import utcnow
from ostiary.db import Base, Database, new_id
from ostiary.mail.messages import Mail
from ostiary.mail.smtp import Mailer, MailError
from ostiary.security.sealing import Sealer, UnreadableSeal
from ostiary.webhooks.leases import claim_due
from ostiary.webhooks.rules import retry_delay

logger = logging.getLogger("ostiary.mail")

BATCH = 20
LEASE = timedelta(minutes=5)


class OutboxMail(Base):
    """One mail to send: ``pending``, ``retrying``, ``sent`` or ``failed`` (given up)."""

    __tablename__ = "mail_outbox"

    id: Mapped[str] = mapped_column(String(36), primary_key=True, default=new_id)
    to_address: Mapped[str] = mapped_column(String(320))
    subject: Mapped[str] = mapped_column(String(300))
    text_body: Mapped[str] = mapped_column(Text)
    html_body: Mapped[str] = mapped_column(Text)
    status: Mapped[str] = mapped_column(String(16), default="pending")
    num_attempts: Mapped[int] = mapped_column(default=0)
    next_attempt_at: Mapped[datetime | None] = mapped_column(default=utcnow)
    give_up_at: Mapped[datetime]
    claim: Mapped[str | None] = mapped_column(String(36))
    locked_until: Mapped[datetime | None]
    last_error: Mapped[str | None] = mapped_column(String(300))
    created_at: Mapped[datetime] = mapped_column(default=utcnow)
    sent_at: Mapped[datetime | None]
    # The bodies are sealed (security.sealing.mail_body_sealer): a one-time link is in them.
    # Erased when finished.
    sealed: Mapped[bool] = mapped_column(default=False)


def queue_mail(
    session: Session,
    mail: Mail,
    *,
    now: datetime,
    retry_for: timedelta,
    seal: Sealer | None = None,
) -> None:
    """Queue a mail in the caller's transaction; it is sent after commit by the mail job. With
    ``seal`` its bodies are stored encrypted (a mail that carries a link)."""
    row_id = new_id()
    text, html = mail.text, mail.html
    if seal is not None:
        text, html = seal.seal(text, bound_to=row_id), seal.seal(html, bound_to=row_id)
    session.add(
        OutboxMail(
            id=row_id,
            to_address=mail.to,
            subject=mail.subject[:300],
            text_body=text,
            html_body=html,
            next_attempt_at=now,
            give_up_at=now + retry_for,
            created_at=now,
            sealed=seal is not None,
        )
    )


@dataclass(frozen=True, slots=True)
class MailRun:
    """What one run of the mail job did."""

    sent: int = 0
    failed: int = 0
    abandoned: int = 0


def _opened(row: OutboxMail, seal: Sealer | None) -> Mail:
    """The mail of a row, its sealed bodies opened (UnreadableSeal when they do not)."""
    if not row.sealed:
        return Mail(row.to_address, row.subject, row.text_body, row.html_body)
    if seal is None:
        raise UnreadableSeal("no key")
    return Mail(
        row.to_address,
        row.subject,
        seal.open(row.text_body, bound_to=row.id),
        seal.open(row.html_body, bound_to=row.id),
    )


def send_due_mail(
    database: Database,
    mailer: Mailer,
    *,
    now: datetime | None = None,
    seal: Sealer | None = None,
) -> MailRun:
    """Send the mail that is due, one claimed batch; each outcome recorded in its own short
    transaction. The SMTP exchange happens outside any transaction. ``seal`` opens the sealed
    bodies; a sealed row that is sent or given up has its bodies erased."""
    now = now or utcnow()
    claim, ids = claim_due(database, OutboxMail, now=now, lease=LEASE, limit=BATCH)
    if not ids:
        return MailRun()
    with database.unit_of_work(write=False) as session:
        rows = list(session.scalars(select(OutboxMail).where(OutboxMail.id.in_(ids))))
    sent = failed = abandoned = 0
    for row in rows:
        error: str | None = None
        unreadable = False
        try:
            mailer.send(_opened(row, seal))
        except MailError as refused:
            error = str(refused)[:300]
        except UnreadableSeal:
            # The server secret changed since it was queued: it can never be sent.
            error, unreadable = "The sealed body does not open (a new server secret?).", True
        attempts = row.num_attempts + 1
        values: dict[str, object] = {
            "num_attempts": attempts,
            "claim": None,
            "locked_until": None,
            "last_error": error,
        }
        if error is None:
            values |= {"status": "sent", "sent_at": now, "next_attempt_at": None}
            sent += 1
        else:
            retry_at = now + retry_delay(attempts)
            if unreadable or retry_at > row.give_up_at:
                values |= {"status": "failed", "next_attempt_at": None}
                abandoned += 1
            else:
                values |= {"status": "retrying", "next_attempt_at": retry_at}
                failed += 1
            # The recipient is personal data, the error names the server without credentials.
            logger.warning("mail %s not sent (attempt %d): %s", row.id, attempts, error)
        if row.sealed and values.get("next_attempt_at", 0) is None:
            # Sent or given up: the link is of no more use to anyone here.
            values |= {"text_body": "", "html_body": ""}
        with database.unit_of_work(write=True) as session:
            session.execute(
                update(OutboxMail)
                .where(OutboxMail.id == row.id, OutboxMail.claim == claim)
                .values(**values)
            )
    return MailRun(sent=sent, failed=failed, abandoned=abandoned)
