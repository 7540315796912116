"""The lifecycle job against a real (SQLite) database: each warning raised once however often
the job runs, the batches walking past a full page, the idle revocation re-checking idleness,
never touching the API key, and recording what it revoked."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ostiary.alerts.models import Alert
from ostiary.events import Event
from ostiary.lifecycle import queries
from ostiary.lifecycle.services import (
    IDLE_REVOKE_ACTION,
    cap_server_lifetime,
    revoke_idle,
    warn_expiries,
)
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind
from tests.support.factories import Factory, UserAccount

DAY = 86400
THRESHOLDS = (14 * DAY, 7 * DAY, DAY)
YEAR = 365 * DAY


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _alerts(factory: Factory, rule: str | None = None) -> list[tuple[str, str]]:
    with factory.database.unit_of_work(write=False) as session:
        statement = select(Alert.rule, Alert.finding)
        if rule is not None:
            statement = statement.where(Alert.rule == rule)
        return [(row[0], row[1]) for row in session.execute(statement)]


def _set(factory: Factory, authorization_id: str, **values: object) -> None:
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(Authorization).where(Authorization.id == authorization_id).values(**values)
        )


def _api_key_id(factory: Factory, account: UserAccount) -> str:
    with factory.database.unit_of_work(write=False) as session:
        found = session.scalar(
            select(Authorization.id).where(
                Authorization.account_id == account.id,
                Authorization.kind == AuthorizationKind.API_KEY,
            )
        )
    assert found is not None
    return found


def test_each_expiry_warning_is_raised_once_however_often_the_job_runs(factory: Factory) -> None:
    account = factory.account()
    now = _now()
    factory.token(account, ["global"], expires_at=now + timedelta(days=10))
    factory.token(account, ["global"], expires_at=now + timedelta(days=30))  # not yet
    for _ in range(3):
        warn_expiries(factory.database, THRESHOLDS, now=now)
    assert [rule for rule, _ in _alerts(factory)] == ["expiring"]
    # Three days later the 7-day warning is due, once; past the expiry, the notice.
    for _ in range(2):
        warn_expiries(factory.database, THRESHOLDS, now=now + timedelta(days=3))
    for _ in range(2):
        warn_expiries(factory.database, THRESHOLDS, now=now + timedelta(days=10, seconds=1))
    findings = sorted(finding.split(":", 2)[2] for _, finding in _alerts(factory))
    assert len(findings) == 3
    assert [f for f in findings if f.startswith(("14d:", "7d:", "expired:"))] == findings


def test_revoked_credentials_are_not_warned(factory: Factory) -> None:
    account = factory.account()
    now = _now()
    token_id, _ = factory.token(account, ["global"], expires_at=now + timedelta(days=2))
    _set(factory, token_id, revoked_at=now)
    warn_expiries(factory.database, THRESHOLDS, now=now)
    assert _alerts(factory) == []


def test_the_batches_walk_past_a_full_page(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(queries, "BATCH", 2)
    monkeypatch.setattr("ostiary.lifecycle.services.BATCH", 2)
    account = factory.account()
    now = _now()
    for hours in range(5):
        factory.token(account, ["global"], expires_at=now + timedelta(hours=hours + 1))
    outcome = warn_expiries(factory.database, THRESHOLDS, now=now)
    assert outcome.looked_at == 5
    assert len(_alerts(factory, "expiring")) == 5
    # Again: every page is read again, and nothing is raised twice.
    warn_expiries(factory.database, THRESHOLDS, now=now)
    assert len(_alerts(factory, "expiring")) == 5


def test_the_api_key_is_warned_by_its_maximum_age(factory: Factory) -> None:
    account = factory.account()
    now = _now()
    key_id = _api_key_id(factory, account)
    # The key's age is its current token's: an account made long ago that regenerated its key
    # yesterday is not warned.
    _set(factory, key_id, created_at=now - timedelta(days=400))
    warn_expiries(factory.database, THRESHOLDS, api_key_max_age=90 * DAY, now=now)
    assert _alerts(factory) == []
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(AccessToken)
            .where(AccessToken.authorization_id == key_id)
            .values(created_at=now - timedelta(days=85))
        )
    warn_expiries(factory.database, THRESHOLDS, api_key_max_age=90 * DAY, now=now)
    assert [rule for rule, _ in _alerts(factory)] == ["expiring"]
    warn_expiries(factory.database, THRESHOLDS, api_key_max_age=None, now=now)
    assert len(_alerts(factory)) == 1


def test_an_idle_token_is_warned_then_revoked_and_recorded(factory: Factory) -> None:
    account = factory.account()
    now = _now()
    token_id, _ = factory.token(account, ["global"])
    _set(factory, token_id, last_used_at=now - timedelta(days=360))
    revoke_idle(factory.database, YEAR, 14 * DAY, now=now)
    assert [rule for rule, _ in _alerts(factory)] == ["idle-revocation"]
    outcome = revoke_idle(factory.database, YEAR, 14 * DAY, now=now + timedelta(days=5))
    assert outcome.revoked == [token_id]
    revoke_idle(factory.database, YEAR, 14 * DAY, now=now + timedelta(days=6))
    assert sorted(rule for rule, _ in _alerts(factory)) == ["idle-revocation", "idle-revoked"]
    with factory.database.unit_of_work(write=False) as session:
        row = session.get(Authorization, token_id)
        assert row is not None
        assert row.revoked_at is not None
        recorded = session.scalar(
            select(func.count()).where(
                Event.action == IDLE_REVOKE_ACTION, Event.target_id == token_id
            )
        )
    assert recorded == 1


def test_a_never_used_token_counts_from_its_creation(factory: Factory) -> None:
    account = factory.account()
    now = _now()
    token_id, _ = factory.token(account, ["global"])
    _set(factory, token_id, created_at=now - timedelta(days=400))
    assert revoke_idle(factory.database, YEAR, 14 * DAY, now=now).revoked == [token_id]


def test_a_token_used_meanwhile_is_not_revoked(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The batch read it as idle; a request used it before the UPDATE: the UPDATE re-checks.
    account = factory.account()
    now = _now()
    token_id, _ = factory.token(account, ["global"])
    _set(factory, token_id, last_used_at=now - timedelta(days=400))
    real_batch = queries.idle_since_before

    def read_then_used(
        session: Session, horizon: datetime, at: datetime, cursor: queries.Cursor = None
    ) -> list[queries.Candidate]:
        found = real_batch(session, horizon, at, cursor)
        session.execute(
            update(Authorization).where(Authorization.id == token_id).values(last_used_at=now)
        )
        return found

    monkeypatch.setattr("ostiary.lifecycle.services.idle_since_before", read_then_used)
    outcome = revoke_idle(factory.database, YEAR, 14 * DAY, now=now)
    assert outcome.revoked == []
    with factory.database.unit_of_work(write=False) as session:
        row = session.get(Authorization, token_id)
        assert row is not None
        assert row.revoked_at is None


def test_the_api_key_is_never_revoked_for_idleness(factory: Factory) -> None:
    account = factory.account()
    now = _now()
    key_id = _api_key_id(factory, account)
    _set(factory, key_id, created_at=now - timedelta(days=800), last_used_at=None)
    outcome = revoke_idle(factory.database, YEAR, 14 * DAY, now=now)
    assert outcome.revoked == []
    assert _alerts(factory) == []
    with factory.database.unit_of_work(write=False) as session:
        row = session.get(Authorization, key_id)
        assert row is not None
        assert row.revoked_at is None


def test_a_shortened_server_maximum_caps_the_tokens_made_before_it(factory: Factory) -> None:
    account = factory.account()
    now = _now()
    forever, _ = factory.token(account, ["global"])
    long, _ = factory.token(account, ["global"], expires_at=now + timedelta(days=100))
    soon, _ = factory.token(account, ["global"], expires_at=now + timedelta(days=1))
    assert cap_server_lifetime(factory.database, 30 * DAY, now=now) == 2

    def ends() -> dict[str, datetime | None]:
        with factory.database.unit_of_work(write=False) as session:
            columns = (Authorization.id, Authorization.kind, Authorization.expires_at)
            rows = session.execute(select(*columns))
            return {
                ("api_key" if kind == AuthorizationKind.API_KEY else ident): (
                    at.replace(tzinfo=UTC) if at is not None else None
                )
                for ident, kind, at in rows
            }

    capped = ends()
    cap = now + timedelta(days=30)
    assert (capped[forever], capped[long]) == (cap, cap)
    assert capped[soon] == now + timedelta(days=1)
    assert capped["api_key"] is None  # the API key has an age limit of its own
    # Idempotent: a later run (the cap counted from a later now) moves nothing.
    assert cap_server_lifetime(factory.database, 30 * DAY, now=now + timedelta(days=2)) == 0
    assert ends() == capped
