"""A migrated SQLite database, two accounts and the box that seals webhook secrets."""

from __future__ import annotations

import secrets
import shutil
from collections.abc import Iterator
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from ostiary.accounts.models import Account
from ostiary.activity.records import LoggedEvent
from ostiary.clock import utcnow
from ostiary.db import Database, new_id
from ostiary.events import SYSTEM
from ostiary.migrate import upgrade
from ostiary.security.hashing import SecretHasher
from ostiary.unit import Unit
from ostiary.webhooks.records import CreatedWebhook
from ostiary.webhooks.secrets import SecretBox
from ostiary.webhooks.services import create_webhook

SERVER_SECRET = secrets.token_bytes(48)


@dataclass(frozen=True)
class World:
    """What a webhook test works with."""

    database: Database
    box: SecretBox
    alice: str
    bob: str

    def unit(self, session: object) -> Unit:
        """A system unit on a session."""
        return Unit(session=session, hasher=SecretHasher(SERVER_SECRET), context=SYSTEM)  # type: ignore[arg-type]

    def webhook(
        self, account_id: str, url: str, include: list[str], **extra: Any
    ) -> CreatedWebhook:
        """A webhook made through the service (loopback allowed: the receivers run here)."""
        with self.database.unit_of_work(write=True) as session:
            return create_webhook(
                self.unit(session),
                self.box,
                account_id=account_id,
                url=url,
                include=include,
                **{"allow_loopback": True, **extra},
            )


def logged(
    actor_id: str | None,
    action: str = "token:api-key:regenerate",
    *,
    details: dict[str, object] | None = None,
    at: datetime | None = None,
) -> LoggedEvent:
    """A sealed event as the activity log hands it to its subscribers."""
    return LoggedEvent(
        id=new_id(),
        seq=1,
        action=action,
        created_at=at or utcnow(),
        actor_id=actor_id,
        authorization_id=new_id(),
        target_type="authorization",
        target_id=None,
        ip="203.0.113.5",
        user_agent="Mozilla/5.0 (X11; Linux x86_64; rv:128.0) Gecko/20100101 Firefox/128.0",
        request_id=new_id(),
        outcome="success",
        details=details or {},
    )


@pytest.fixture(scope="session")
def migrated(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One migrated database file, copied for each test (migrating takes seconds)."""
    path = tmp_path_factory.mktemp("template") / "webhooks.db"
    upgrade(f"sqlite:///{path}")
    return path


@pytest.fixture
def world(tmp_path: Path, migrated: Path) -> Iterator[World]:
    path = tmp_path / "webhooks.db"
    shutil.copyfile(migrated, path)
    database = Database(f"sqlite:///{path}")
    with database.unit_of_work(write=True) as session:
        alice = Account(email="alice@example.com")
        bob = Account(email="bob@example.com")
        session.add_all([alice, bob])
        session.flush()
        ids = alice.id, bob.id
    yield World(database, SecretBox(SERVER_SECRET), *ids)
    database.dispose()
