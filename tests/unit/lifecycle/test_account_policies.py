"""The lifecycle job by each account's own stricter policy, against a real (SQLite) database:
a token cut short by a tightened maximum lifetime warned and noticed at its effective expiry,
the API key warned by the account's maximum age, idle tokens revoked by the account's idle limit
counted from the change; each at its edge and not before, once however often the job runs, and
another account untouched."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update

from ostiary.alerts.models import Alert
from ostiary.clock import isoformat
from ostiary.config import load_settings
from ostiary.events import Event
from ostiary.lifecycle.services import (
    IDLE_REVOKE_ACTION,
    revoke_policy_idle,
    run_lifecycle,
    warn_expiries,
    warn_policy_expiries,
)
from ostiary.policies.models import AccountTokenPolicy
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind
from ostiary.unit import TokenLifetimes
from tests.support.factories import Factory, UserAccount

DAY = 86400
THRESHOLDS = (14 * DAY, 7 * DAY, DAY)
WARN = 14 * DAY
SERVER = TokenLifetimes(idle_revoke_after=365 * DAY)
SECOND = timedelta(seconds=1)


def _now() -> datetime:
    return datetime.now(UTC).replace(microsecond=0)


def _occasions(factory: Factory, authorization_id: str) -> list[str]:
    """The occasions of the alerts raised about one credential, in the order raised."""
    with factory.database.unit_of_work(write=False) as session:
        rows = session.execute(
            select(Alert.rule, Alert.finding)
            .where(Alert.authorization_id == authorization_id)
            .order_by(Alert.raised_at, Alert.id)
        )
        # A finding is "<rule>:<credential>:<occasion>" (alerts.rules.finding_of).
        return [f"{rule} {finding.split(':', 2)[2]}" for rule, finding in rows]


def _alerts_of(factory: Factory, account: UserAccount) -> int:
    with factory.database.unit_of_work(write=False) as session:
        return (
            session.scalar(
                select(func.count()).select_from(Alert).where(Alert.account_id == account.id)
            )
            or 0
        )


def _set(factory: Factory, authorization_id: str, **values: object) -> None:
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(Authorization).where(Authorization.id == authorization_id).values(**values)
        )


def _policy(factory: Factory, account: UserAccount, **values: object) -> None:
    with factory.database.unit_of_work(write=True) as session:
        session.add(AccountTokenPolicy(account_id=account.id, **values))


def _revoked(factory: Factory, authorization_id: str) -> bool:
    with factory.database.unit_of_work(write=False) as session:
        row = session.get(Authorization, authorization_id)
        assert row is not None
        return row.revoked_at is not None


def _api_key(factory: Factory, account: UserAccount, issued_at: datetime) -> str:
    """The account's API key, its current token issued at ``issued_at``."""
    with factory.database.unit_of_work(write=True) as session:
        key_id = session.scalar(
            select(Authorization.id).where(
                Authorization.account_id == account.id,
                Authorization.kind == AuthorizationKind.API_KEY,
            )
        )
        assert key_id is not None
        session.execute(
            update(AccessToken)
            .where(AccessToken.authorization_id == key_id)
            .values(created_at=issued_at)
        )
    return key_id


def test_a_token_cut_short_by_a_tightened_lifetime_is_warned_at_its_effective_expiry(
    factory: Factory,
) -> None:
    now = _now()
    strict, other = factory.account(), factory.account()
    tightened_at = now - timedelta(days=20)
    _policy(factory, strict, max_lifetime=30 * DAY, tightened_at=tightened_at)
    # Made long before the change, its own expiry far away: it ends 30 days after the change.
    old_id, _ = factory.token(strict, ["global"], expires_at=now + timedelta(days=300))
    never_id, _ = factory.token(strict, ["global"])
    for token_id in (old_id, never_id):
        _set(factory, token_id, created_at=now - timedelta(days=100))
    # Made after the change within the limit: its own expiry is the server-wide walk's.
    new_id, _ = factory.token(strict, ["global"], expires_at=now + timedelta(days=25))
    _set(factory, new_id, created_at=now - timedelta(days=5))
    # Another account without a policy: the same token keeps its own expiry.
    theirs, _ = factory.token(other, ["global"], expires_at=now + timedelta(days=300))
    _set(factory, theirs, created_at=now - timedelta(days=100))
    ends = tightened_at + timedelta(days=30)
    when = isoformat(ends)

    def run(at: datetime) -> None:
        for _ in range(3):
            warn_policy_expiries(factory.database, SERVER, THRESHOLDS, now=at)

    run(ends - timedelta(days=14) - SECOND)
    assert _occasions(factory, old_id) == []
    run(ends - timedelta(days=14))
    assert _occasions(factory, old_id) == [f"expiring 14d:{when}"]
    run(ends - timedelta(days=7) - SECOND)
    assert _occasions(factory, old_id) == [f"expiring 14d:{when}"]
    run(ends - timedelta(days=7))
    run(ends - timedelta(days=1))
    run(ends - SECOND)
    expected = [f"expiring 14d:{when}", f"expiring 7d:{when}", f"expiring 1d:{when}"]
    assert _occasions(factory, old_id) == expected
    run(ends)
    run(ends + timedelta(days=1))
    expected.append(f"expired expired:{when}")
    assert _occasions(factory, old_id) == expected
    assert _occasions(factory, never_id) == expected
    assert _occasions(factory, new_id) == []
    assert _alerts_of(factory, other) == 0


def test_the_server_maximum_lifetime_is_counted_from_the_accounts_change(
    factory: Factory,
) -> None:
    # The account tightened something else; the server's maximum lifetime then also counts from
    # the change for tokens made before it, as the authenticator has it.
    now = _now()
    account = factory.account()
    tightened_at = now - timedelta(days=5)
    _policy(factory, account, api_key_max_age=300 * DAY, tightened_at=tightened_at)
    token_id, _ = factory.token(account, ["global"])
    _set(factory, token_id, created_at=now - timedelta(days=100))
    server = TokenLifetimes(max_lifetime=10 * DAY)
    warn_policy_expiries(factory.database, server, THRESHOLDS, now=now)
    assert _occasions(factory, token_id) == [f"expiring 7d:{isoformat(now + timedelta(days=5))}"]


def test_the_api_key_is_warned_by_the_accounts_stricter_maximum_age(factory: Factory) -> None:
    now = _now()
    strict, other = factory.account(), factory.account()
    _policy(factory, strict, api_key_max_age=30 * DAY, tightened_at=now - timedelta(days=1))
    issued_at = now - timedelta(days=10)
    key_id = _api_key(factory, strict, issued_at)
    _api_key(factory, other, issued_at)
    ends = issued_at + timedelta(days=30)
    when = isoformat(ends)
    # The server's own, longer maximum age does not hide the account's.
    server = TokenLifetimes(api_key_max_age=90 * DAY)

    def run(at: datetime) -> None:
        for _ in range(3):
            warn_policy_expiries(factory.database, server, THRESHOLDS, now=at)

    run(ends - timedelta(days=14) - SECOND)
    assert _occasions(factory, key_id) == []
    run(ends - timedelta(days=14))
    assert _occasions(factory, key_id) == [f"expiring 14d:{when}"]
    run(ends - timedelta(days=7))
    run(ends - SECOND)
    run(ends)
    assert _occasions(factory, key_id) == [
        f"expiring 14d:{when}",
        f"expiring 7d:{when}",
        f"expiring 1d:{when}",
        f"expired expired:{when}",
    ]
    assert _alerts_of(factory, other) == 0
    # Regenerated: the new key's age starts again, and the old warnings stay as they were.
    _api_key(factory, strict, ends)
    run(ends + timedelta(days=1))
    assert len(_occasions(factory, key_id)) == 4


def test_idle_tokens_are_revoked_by_the_accounts_limit_counted_from_the_change(
    factory: Factory,
) -> None:
    now = _now()
    strict, other = factory.account(), factory.account()
    tightened_at = now - timedelta(days=10)
    _policy(factory, strict, idle_revoke_after=30 * DAY, tightened_at=tightened_at)
    idle_id, _ = factory.token(strict, ["global"])
    _set(factory, idle_id, last_used_at=now - timedelta(days=100))
    used_id, _ = factory.token(strict, ["global"])
    _set(factory, used_id, last_used_at=now - timedelta(days=1))
    theirs, _ = factory.token(other, ["global"])
    _set(factory, theirs, last_used_at=now - timedelta(days=100))
    # Idle for 100 days but the limit is 10 days old: revoked 30 days after the change.
    revoke_at = tightened_at + timedelta(days=30)
    when = isoformat(revoke_at)

    def run(at: datetime) -> list[str]:
        revoked: list[str] = []
        for _ in range(3):
            revoked += revoke_policy_idle(factory.database, SERVER, WARN, now=at).revoked
        return revoked

    assert run(now) == []
    assert run(revoke_at - timedelta(days=14) - SECOND) == []
    assert _occasions(factory, idle_id) == []
    assert run(revoke_at - timedelta(days=14)) == []
    assert _occasions(factory, idle_id) == [f"idle-revocation warned:{when}"]
    assert run(revoke_at - SECOND) == []
    assert not _revoked(factory, idle_id)
    assert run(revoke_at) == [idle_id]
    assert run(revoke_at + timedelta(days=1)) == []
    assert _revoked(factory, idle_id)
    assert _occasions(factory, idle_id) == [
        f"idle-revocation warned:{when}",
        f"idle-revoked revoked:{when}",
    ]
    with factory.database.unit_of_work(write=False) as session:
        recorded = session.scalar(
            select(func.count()).where(
                Event.action == IDLE_REVOKE_ACTION, Event.target_id == idle_id
            )
        )
    assert recorded == 1
    assert not _revoked(factory, used_id)
    assert not _revoked(factory, theirs)
    assert _alerts_of(factory, other) == 0


def test_the_api_key_is_never_revoked_by_the_accounts_idle_limit(factory: Factory) -> None:
    now = _now()
    account = factory.account()
    _policy(factory, account, idle_revoke_after=DAY, tightened_at=now - timedelta(days=10))
    key_id = _api_key(factory, account, now - timedelta(days=400))
    _set(factory, key_id, created_at=now - timedelta(days=400), last_used_at=None)
    assert revoke_policy_idle(factory.database, SERVER, WARN, now=now).revoked == []
    assert not _revoked(factory, key_id)
    assert _alerts_of(factory, account) == 0


def test_the_account_walk_reads_past_full_pages(
    factory: Factory, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr("ostiary.lifecycle.services.BATCH", 2)
    now = _now()
    tokens = []
    for _ in range(3):
        account = factory.account()
        _policy(factory, account, idle_revoke_after=30 * DAY, tightened_at=now - timedelta(days=40))
        for _ in range(3):
            token_id, _ = factory.token(account, ["global"])
            _set(factory, token_id, last_used_at=now - timedelta(days=50))
            tokens.append(token_id)
    outcome = revoke_policy_idle(factory.database, SERVER, WARN, now=now)
    assert sorted(outcome.revoked) == sorted(tokens)


def test_the_periodic_job_honours_the_accounts_policy(factory: Factory, tmp_path: Path) -> None:
    now = _now()
    account = factory.account()
    _policy(factory, account, idle_revoke_after=30 * DAY, tightened_at=now - timedelta(days=40))
    idle_id, _ = factory.token(account, ["global"])
    _set(factory, idle_id, last_used_at=now - timedelta(days=31))
    outcome = run_lifecycle(factory.database, load_settings(data_dir=tmp_path))
    assert outcome.revoked == [idle_id]
    assert _occasions(factory, idle_id)[-1].startswith("idle-revoked ")


def test_the_server_wide_walk_does_not_warn_of_an_expiry_the_policy_cuts_short(
    factory: Factory,
) -> None:
    now = _now()
    account = factory.account()
    tightened_at = now - timedelta(days=27)
    _policy(
        factory, account, max_lifetime=30 * DAY, api_key_max_age=30 * DAY, tightened_at=tightened_at
    )
    # Its own expiry is in 10 days, the policy ends it in 3; the key's server age in 15 days,
    # the account's in 5: only the earlier ends are warned of.
    token_id, _ = factory.token(account, ["global"], expires_at=now + timedelta(days=10))
    _set(factory, token_id, created_at=now - timedelta(days=100))
    key_id = _api_key(factory, account, now - timedelta(days=25))
    server = TokenLifetimes(api_key_max_age=40 * DAY)
    for days in (0, 2, 3, 4, 9, 10, 11, 15, 16):
        at = now + timedelta(days=days)
        warn_expiries(factory.database, THRESHOLDS, server.api_key_max_age, at, server)
        warn_policy_expiries(factory.database, server, THRESHOLDS, now=at)
    cut = isoformat(tightened_at + timedelta(days=30))
    assert _occasions(factory, token_id) == [
        f"expiring 7d:{cut}",
        f"expiring 1d:{cut}",
        f"expired expired:{cut}",
    ]
    aged = isoformat(now + timedelta(days=5))
    assert _occasions(factory, key_id) == [
        f"expiring 7d:{aged}",
        f"expiring 1d:{aged}",
        f"expired expired:{aged}",
    ]
