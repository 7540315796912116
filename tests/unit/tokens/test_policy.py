"""A shorter maximum lifetime written into the tokens it cuts short: the deadline is stored, so
no later change of the policy (loosening it again, an unrelated tightening) lifts or moves it."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from sqlalchemy import select

from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.tokens.policy import change_token_policy
from tests.support.factories import Factory, UserAccount

DAY = 86400


def _expiries(factory: Factory, account: UserAccount) -> dict[str, datetime | None]:
    with factory.database.unit_of_work(write=False) as session:
        rows = session.execute(
            select(Authorization.id, Authorization.kind, Authorization.expires_at).where(
                Authorization.account_id == account.id
            )
        ).all()
    return {
        ("api_key" if kind == AuthorizationKind.API_KEY else ident): (
            at.replace(tzinfo=UTC) if at is not None and at.tzinfo is None else at
        )
        for ident, kind, at in rows
    }


def _change(factory: Factory, account: UserAccount, **changes: object) -> None:
    with factory.database.unit_of_work(write=True) as session:
        change_token_policy(factory.unit(session), account.id, changes)


def test_a_shorter_maximum_caps_the_tokens_it_cuts_short_for_good(factory: Factory) -> None:
    account, bystander = factory.account(), factory.account()
    now = datetime.now(UTC)
    forever, _ = factory.token(account, ["global"])
    long, _ = factory.token(account, ["global"], expires_at=now + timedelta(days=100))
    soon, _ = factory.token(account, ["global"], expires_at=now + timedelta(days=1))
    theirs, _ = factory.token(bystander, ["global"])

    _change(factory, account, max_lifetime=30 * DAY)
    capped = _expiries(factory, account)
    deadline = capped[forever]
    assert deadline is not None
    assert abs((deadline - (now + timedelta(days=30))).total_seconds()) < 60
    assert capped[long] == deadline
    assert capped[soon] is not None
    assert capped[soon] < deadline  # type: ignore[operator]  # already shorter: untouched
    assert capped["api_key"] is None  # the key has its own age limit
    assert _expiries(factory, bystander)[theirs] is None

    # Whoever holds a global token cannot lift the deadline again, nor move it on by another
    # change of the policy.
    _change(factory, account, max_lifetime=None)
    _change(factory, account, idle_revoke_after=30 * DAY)
    _change(factory, account, max_lifetime=60 * DAY)
    assert _expiries(factory, account) == capped
