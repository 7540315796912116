"""The rules of a token's lineage (tokens/authorizations.py), without a server."""

from __future__ import annotations

import pytest
from sqlalchemy import select

from ostiary.clock import utcnow
from ostiary.errors import Forbidden, Unauthorized
from ostiary.tokens.models import AccessToken, Authorization
from ostiary.tokens.queries import descends_from, find_parent
from ostiary.tokens.rules import check_may_regenerate, is_root_credential
from ostiary.tokens.services import lineage
from tests.support.factories import Factory, add_authorization


def test_a_token_revoked_after_its_request_was_authenticated_makes_no_child(
    factory: Factory,
) -> None:
    """The race an attacker wins by creating children while the token is being regenerated:
    the request was authenticated, then the token was revoked before its transaction began."""
    account = factory.account()
    authorization_id, _ = factory.token(account, ["global"])
    with factory.database.unit_of_work(write=True) as session:
        access = session.scalar(
            select(AccessToken).where(AccessToken.authorization_id == authorization_id)
        )
        assert access is not None
        assert find_parent(session, authorization_id, access.id).id == authorization_id
        access.revoked_at = utcnow()
        session.flush()
        with pytest.raises(Unauthorized):
            find_parent(session, authorization_id, access.id)
        with pytest.raises(Unauthorized):
            find_parent(session, authorization_id, None)


def test_roots_and_descendants(factory: Factory) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        root = add_authorization(session, account.id)
        child = add_authorization(session, account.id, parent_id=root.id)
        grandchild = add_authorization(session, account.id, parent_id=child.id)
        other = add_authorization(session, account.id)
        assert is_root_credential(root)
        assert not is_root_credential(child)
        assert descends_from(session, grandchild, root.id)
        assert descends_from(session, child, child.id)
        assert not descends_from(session, other, child.id)
        check_may_regenerate(
            child, target_made_by_caller=descends_from(session, grandchild, child.id)
        )
        check_may_regenerate(root, target_made_by_caller=descends_from(session, other, root.id))
        with pytest.raises(Forbidden):
            check_may_regenerate(
                child, target_made_by_caller=descends_from(session, other, child.id)
            )
        with pytest.raises(Forbidden):
            check_may_regenerate(
                child, target_made_by_caller=descends_from(session, root, child.id)
            )


def test_a_token_suspended_after_its_request_was_authenticated_makes_no_child(
    factory: Factory,
) -> None:
    """The same race with a suspension: a child made by a credential suspended meanwhile would
    escape the suspension its descendants get."""
    account = factory.account()
    authorization_id, _ = factory.token(account, ["global"])
    with factory.database.unit_of_work(write=True) as session:
        access = session.scalar(
            select(AccessToken).where(AccessToken.authorization_id == authorization_id)
        )
        assert access is not None
        parent = find_parent(session, authorization_id, access.id)
        parent.suspended_at, parent.suspended_by = utcnow(), "alert-1"
        session.flush()
        with pytest.raises(Unauthorized):
            find_parent(session, authorization_id, access.id)


def test_the_lineage_walk_reads_every_live_generation(factory: Factory) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        root = add_authorization(session, account.id)
        chain = [root]
        for _ in range(40):  # deeper than MAX_LINEAGE: the walk has no fixed bound
            chain.append(add_authorization(session, account.id, parent_id=chain[-1].id))
        add_authorization(session, account.id, parent_id=root.id, revoked_at=utcnow())
        walked = list(lineage(session, Authorization.id == root.id))
        assert walked == [[row.id] for row in chain]
