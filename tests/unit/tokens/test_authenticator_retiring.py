"""The authenticator and a retiring token (tokens.rotation): it is accepted until its grace
ends and refused after, and its own last use is written at once for a new address and at most
once a minute for the same one; a token that is not retiring gets no per-token writes."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import select, update

from ostiary.clock import utcnow
from ostiary.errors import Unauthorized
from ostiary.events import RequestContext
from ostiary.tokens.authenticator import TokenAuthenticator
from ostiary.tokens.models import AccessToken, Authorization
from ostiary.tokens.services import regenerate
from tests.support.factories import Factory

FIRST = RequestContext(ip="192.0.2.1", user_agent="ci/1")
SECOND = RequestContext(ip="192.0.2.2", user_agent="ci/2")


def _rotate(factory: Factory, authorization_id: str, grace: int) -> str:
    """Regenerate with a grace; the new token's plaintext."""
    with factory.database.unit_of_work(write=True) as session:
        authorization = session.get(Authorization, authorization_id)
        assert authorization is not None
        return regenerate(factory.unit(session), authorization, grace).access.plaintext


def _old_row(factory: Factory, authorization_id: str) -> AccessToken:
    with factory.database.unit_of_work(write=False) as session:
        row = session.scalars(
            select(AccessToken).where(
                AccessToken.authorization_id == authorization_id,
                AccessToken.retiring_at.is_not(None),
            )
        ).one()
        session.expunge(row)
        return row


def test_the_retiring_tokens_last_use_follows_its_addresses(factory: Factory) -> None:
    account = factory.account()
    authorization_id, old = factory.token(account, ["global"])
    new = _rotate(factory, authorization_id, 600)
    authenticator = TokenAuthenticator(factory.database, factory.hasher)
    assert _old_row(factory, authorization_id).last_used_at is None
    assert authenticator.authenticate(old, FIRST).authorization_id == authorization_id
    assert _old_row(factory, authorization_id).last_used_ip == "192.0.2.1"
    assert authenticator.authenticate(old, SECOND).authorization_id == authorization_id
    assert _old_row(factory, authorization_id).last_used_ip == "192.0.2.2"  # at once
    # The new token's use is not the old one's.
    authenticator.authenticate(new, FIRST)
    assert _old_row(factory, authorization_id).last_used_ip == "192.0.2.2"


def test_the_same_address_is_written_at_most_once_a_minute(factory: Factory) -> None:
    account = factory.account()
    authorization_id, old = factory.token(account, ["global"])
    _rotate(factory, authorization_id, 600)
    authenticator = TokenAuthenticator(factory.database, factory.hasher)
    authenticator.authenticate(old, FIRST)
    written = _old_row(factory, authorization_id).last_used_at
    assert written is not None
    earlier = written - timedelta(seconds=30)
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(AccessToken)
            .where(AccessToken.authorization_id == authorization_id)
            .where(AccessToken.retiring_at.is_not(None))
            .values(last_used_at=earlier)
        )
    authenticator.authenticate(old, FIRST)
    assert _old_row(factory, authorization_id).last_used_at == earlier  # within the minute
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(AccessToken)
            .where(AccessToken.authorization_id == authorization_id)
            .where(AccessToken.retiring_at.is_not(None))
            .values(last_used_at=written - timedelta(minutes=2))
        )
    authenticator.authenticate(old, FIRST)
    rewritten = _old_row(factory, authorization_id).last_used_at
    assert rewritten is not None
    assert rewritten > written - timedelta(minutes=2)  # a minute passed: written again


def test_past_its_grace_the_retiring_token_is_refused_as_expired(factory: Factory) -> None:
    account = factory.account()
    authorization_id, old = factory.token(account, ["global"])
    new = _rotate(factory, authorization_id, 600)
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(AccessToken)
            .where(AccessToken.retiring_at.is_not(None))
            .where(AccessToken.authorization_id == authorization_id)
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    authenticator = TokenAuthenticator(factory.database, factory.hasher)
    with pytest.raises(Unauthorized) as refused:
        authenticator.authenticate(old, FIRST)
    assert refused.value.audit is not None
    assert refused.value.audit.details == {"reason": "expired token"}
    assert authenticator.authenticate(new, FIRST).authorization_id == authorization_id
