"""The dashboard's "Expiring in the next 30 days": the API key by the age limit in force, the
account's stricter one included, counted from its last regeneration."""

from __future__ import annotations

from collections.abc import Iterator
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import select, update

from ostiary.config import load_settings
from ostiary.migrate import upgrade
from ostiary.policies.models import AccountTokenPolicy
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind
from ostiary.web.dashboard.expiring import expiring_rows
from tests.support.factories import Factory


@pytest.fixture
def factory(tmp_path: Path) -> Iterator[Factory]:
    upgrade(load_settings(data_dir=tmp_path).effective_database_url)
    made = Factory(tmp_path)
    yield made
    made.close()


def test_the_api_key_is_listed_by_the_accounts_stricter_age(
    factory: Factory, tmp_path: Path
) -> None:
    account, other = factory.account(), factory.account()
    issued = datetime.now(UTC) - timedelta(days=5)
    with factory.database.unit_of_work(write=True) as session:
        keys = select(Authorization.id).where(Authorization.kind == AuthorizationKind.API_KEY)
        session.execute(
            update(AccessToken)
            .where(AccessToken.authorization_id.in_(keys.scalar_subquery()))
            .values(created_at=issued)
        )
        session.add(AccountTokenPolicy(account_id=account.id, api_key_max_age=10 * 86400))
    settings = load_settings(data_dir=tmp_path)  # no server-wide age limit
    with factory.database.unit_of_work(write=False) as session:
        [row] = expiring_rows(session, account.id, settings)
        assert (row.kind, row.action) == ("API key", "Regenerate")
        assert row.days in (4, 5)
        assert expiring_rows(session, other.id, settings) == []
