"""Mail that carries a link waits in the outbox sealed and is erased once finished."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select

from ostiary.clock import utcnow
from ostiary.mail.messages import Mail
from ostiary.mail.smtp import Mailer, MailError, SmtpServer
from ostiary.security.sealing import Sealer, mail_body_sealer
from ostiary.webhooks.outbox import OutboxMail, queue_mail, send_due_mail
from tests.unit.webhooks.conftest import SERVER_SECRET, World

LINK = "https://ostiary.test/reset-password?token=the-secret-token"
MAIL = Mail("alice@example.com", "Reset", f"Follow {LINK}", f'<a href="{LINK}">reset</a>')


class _Recorder(Mailer):
    """A mailer that keeps what it was given, or fails."""

    def __init__(self, fail: bool = False) -> None:
        super().__init__(SmtpServer("127.0.0.1", 9, "none"), "ostiary@example.test")
        self.sent: list[Mail] = []
        self.fail = fail

    def send(self, mail: Mail) -> None:
        if self.fail:
            raise MailError("127.0.0.1:9: ConnectionRefusedError.")
        self.sent.append(mail)


def _queue(world: World, seal: Sealer, window: timedelta = timedelta(minutes=30)) -> None:
    with world.database.unit_of_work(write=True) as session:
        queue_mail(session, MAIL, now=utcnow(), retry_for=window, seal=seal)


def _rows(world: World) -> list[OutboxMail]:
    with world.database.unit_of_work(write=False) as session:
        return list(session.scalars(select(OutboxMail)))


def test_the_link_is_not_readable_in_the_table_and_is_erased_once_sent(world: World) -> None:
    seal = mail_body_sealer(SERVER_SECRET)
    _queue(world, seal)
    (row,) = _rows(world)
    assert row.sealed
    assert "the-secret-token" not in row.text_body + row.html_body
    mailer = _Recorder()
    assert send_due_mail(world.database, mailer, seal=seal).sent == 1
    assert mailer.sent == [MAIL]  # the recipient reads it whole
    (row,) = _rows(world)
    assert (row.status, row.text_body, row.html_body) == ("sent", "", "")


def test_an_abandoned_link_mail_is_erased_too(world: World) -> None:
    seal = mail_body_sealer(SERVER_SECRET)
    _queue(world, seal, window=timedelta(seconds=1))
    assert send_due_mail(world.database, _Recorder(fail=True), seal=seal).abandoned == 1
    (row,) = _rows(world)
    assert (row.status, row.text_body, row.html_body) == ("failed", "", "")


def test_a_retried_link_mail_stays_sealed_until_it_goes(world: World) -> None:
    seal = mail_body_sealer(SERVER_SECRET)
    _queue(world, seal)
    assert send_due_mail(world.database, _Recorder(fail=True), seal=seal).failed == 1
    (row,) = _rows(world)
    assert row.status == "retrying"
    assert row.text_body.startswith("v1:")
    assert "the-secret-token" not in row.text_body


def test_a_body_sealed_under_another_secret_is_given_up_and_erased(world: World) -> None:
    _queue(world, mail_body_sealer(b"another server secret, 32 bytes or more!"))
    mailer = _Recorder()
    run = send_due_mail(world.database, mailer, seal=mail_body_sealer(SERVER_SECRET))
    assert (run.sent, run.abandoned, mailer.sent) == (0, 1, [])
    (row,) = _rows(world)
    assert (row.status, row.text_body) == ("failed", "")
