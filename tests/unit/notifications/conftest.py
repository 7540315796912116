"""A migrated database of its own for each notifications test, and a sealer that tells the
notifications' subscriber of what was recorded, as the server's frequent job does."""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Iterator, Sequence
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.activity.chain import chain_key
from ostiary.activity.records import LoggedEvent
from ostiary.activity.services import seal_events
from ostiary.config import load_settings
from ostiary.events import RequestContext
from ostiary.mail.messages import Mail
from ostiary.migrate import upgrade
from ostiary.notifications.services import notify
from ostiary.security.server_secret import load_or_create_secret
from ostiary.unit import Unit
from ostiary.webhooks.outbox import OutboxMail
from tests.support.factories import Factory
from tests.support.postgres import fresh_database

BASE_URL = "https://ostiary.example.test"
FIREFOX = "Mozilla/5.0 (X11; Linux x86_64; rv:133.0) Gecko/20100101 Firefox/133.0"
CHROME_MAC = (
    "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7) AppleWebKit/537.36 (KHTML, like Gecko) "
    "Chrome/131.0.0.0 Safari/537.36"
)
HEROKU = "heroku/10.1.0 linux-x64 node-v22.11.0"


@pytest.fixture(params=["sqlite", "postgresql"])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """A factory on a freshly migrated database: SQLite, then PostgreSQL (the locks, the
    unique pairs and the timestamps behave the same on both)."""
    with contextlib.ExitStack() as stack:
        url = (
            stack.enter_context(fresh_database())
            if request.param == "postgresql"
            else load_settings(data_dir=tmp_path).effective_database_url
        )
        upgrade(url)
        made = Factory(tmp_path, database_url=url)
        yield made
        made.close()


Seal = Callable[[], list[Mail]]


@pytest.fixture
def seal(factory: Factory, tmp_path: Path) -> Seal:
    """Seal what was recorded, the notifications told of each batch; the mail queued by it."""
    key = chain_key(load_or_create_secret(load_settings(data_dir=tmp_path)))
    seen: set[str] = set()

    def subscriber(session: Session, events: Sequence[LoggedEvent]) -> None:
        notify(session, events, base_url=BASE_URL, retry_window=timedelta(days=1))

    def run() -> list[Mail]:
        seal_events(factory.database, key, [subscriber])
        with factory.database.unit_of_work(write=False) as session:
            rows = session.scalars(select(OutboxMail).order_by(OutboxMail.created_at)).all()
            fresh = [row for row in rows if row.id not in seen]
            seen.update(row.id for row in fresh)
            return [Mail(r.to_address, r.subject, r.text_body, r.html_body) for r in fresh]

    return run


def unit_from(
    factory: Factory,
    session: Session,
    *,
    ip: str | None = "203.0.113.5",
    user_agent: str | None = FIREFOX,
    request_id: str | None = "req-1",
) -> Unit:
    """A unit of work as a request from this address and agent would have it."""
    context = RequestContext(ip=ip, user_agent=user_agent, request_id=request_id)
    return Unit(
        session=session, hasher=factory.hasher, context=context, lifetimes=factory.lifetimes
    )
