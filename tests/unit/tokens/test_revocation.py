"""Revoking marks rows and keeps them (tokens.services.revoke_with_descendants), without a server:
an authorization's descendants are revoked with it, however deep, and ending a login session
revokes what was made through it and keeps the session, marked ended."""

from __future__ import annotations

from datetime import datetime, timedelta

import pytest
from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.accounts.models import LoginSession
from ostiary.accounts.sessions import find_session, live_sessions_of, open_session
from ostiary.clock import utcnow
from ostiary.errors import NotFound, Unauthorized
from ostiary.tokens.models import AccessToken, Authorization
from ostiary.tokens.owners import close_session
from ostiary.tokens.queries import MAX_LINEAGE, authorizations_of, find_parent
from ostiary.tokens.services import (
    issue_access_token,
    revoke,
    revoke_children,
    revoke_with_descendants,
)
from tests.support.factories import Factory, add_authorization


def _lineage(session: Session, account_id: str, depth: int) -> list[Authorization]:
    """A root and ``depth - 1`` generations below it, one authorization each."""
    lineage = [add_authorization(session, account_id)]
    for _ in range(depth - 1):
        lineage.append(add_authorization(session, account_id, parent_id=lineage[-1].id))
    return lineage


def _revoked_at(session: Session, ids: list[str]) -> dict[str, datetime | None]:
    rows = session.execute(
        select(Authorization.id, Authorization.revoked_at).where(Authorization.id.in_(ids))
    )
    return dict(rows.all())


def test_revoking_an_authorization_revokes_every_descendant_and_keeps_the_rows(
    factory: Factory,
) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        lineage = _lineage(session, account.id, depth=6)
        sibling = add_authorization(session, account.id, parent_id=lineage[1].id)
        unrelated = _lineage(session, account.id, depth=2)
        revoke(factory.unit(session), lineage[0])
        session.flush()
        revoked = _revoked_at(session, [a.id for a in [*lineage, sibling]])
        assert len(revoked) == 7  # every row is still there
        assert None not in revoked.values()
        assert len(set(revoked.values())) == 1  # revoked at one instant
        assert set(_revoked_at(session, [a.id for a in unrelated]).values()) == {None}
        listed = set(session.scalars(authorizations_of(account.id)))
        assert listed == set(unrelated)


def test_an_earlier_revocation_keeps_its_time_and_is_not_counted(factory: Factory) -> None:
    account = factory.account()
    earlier = utcnow() - timedelta(days=1)
    with factory.database.unit_of_work(write=True) as session:
        root, child, grandchild = _lineage(session, account.id, depth=3)
        assert revoke_with_descendants(session, Authorization.id == child.id, now=earlier) == 1
        assert revoke_with_descendants(session, Authorization.id == root.id) == 1
        # Already revoked: nothing matches.
        assert revoke_with_descendants(session, Authorization.id == root.id) == 0
        session.flush()
        times = _revoked_at(session, [root.id, child.id, grandchild.id])
        assert times[child.id] == times[grandchild.id] == earlier
        root_revoked = times[root.id]
        assert root_revoked is not None
        assert root_revoked > earlier


def test_revoking_children_leaves_the_parent_live(factory: Factory) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        root, child, grandchild = _lineage(session, account.id, depth=3)
        second_child = add_authorization(session, account.id, parent_id=root.id)
        assert revoke_children(factory.unit(session), root.id) == 2
        session.flush()
        times = _revoked_at(session, [root.id, child.id, grandchild.id, second_child.id])
        assert times[root.id] is None
        assert None not in (times[child.id], times[grandchild.id], times[second_child.id])


def test_a_parent_revoked_while_a_request_waited_makes_no_child(factory: Factory) -> None:
    """The row of a revoked authorization stays, so the lock finds it: it must be refused."""
    account = factory.account()
    authorization_id, _ = factory.token(account, ["global"])
    with factory.database.unit_of_work(write=True) as session:
        access = session.scalar(
            select(AccessToken).where(AccessToken.authorization_id == authorization_id)
        )
        assert access is not None
        revoke_with_descendants(session, Authorization.id == authorization_id)
        session.flush()
        with pytest.raises(Unauthorized):
            find_parent(session, authorization_id, access.id)


def test_ending_a_session_revokes_what_was_made_through_it_and_keeps_the_session(
    factory: Factory,
) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        login = open_session(
            factory.unit(session), account_id=account.id, description="cli", expires_at=None
        )
        through = add_authorization(session, account.id, session_id=login.id)
        child = add_authorization(session, account.id, parent_id=through.id)
        issue_access_token(factory.unit(session), through)
        other = open_session(
            factory.unit(session), account_id=account.id, description="other", expires_at=None
        )
        close_session(factory.unit(session), login, actor_id=account.id)
        session.flush()
        kept = session.get(LoginSession, login.id)
        assert kept is not None
        assert kept.ended_at is not None
        times = _revoked_at(session, [through.id, child.id])
        assert times == {through.id: kept.ended_at, child.id: kept.ended_at}
        assert list(session.scalars(live_sessions_of(account.id))) == [other]
        with pytest.raises(NotFound):
            find_session(session, account.id, login.id)


def test_a_lineage_deeper_than_any_limit_is_revoked_to_its_last_generation(
    factory: Factory,
) -> None:
    """A chain made deep on purpose (each token making the next) must not outlive its root: the
    authenticator checks only a token's own authorization."""
    account = factory.account()
    depth = MAX_LINEAGE + 8
    with factory.database.unit_of_work(write=True) as session:
        lineage = _lineage(session, account.id, depth=depth)
        revoke(factory.unit(session), lineage[0])
        session.flush()
        revoked = _revoked_at(session, [a.id for a in lineage])
        assert len(revoked) == depth
        assert None not in revoked.values()
