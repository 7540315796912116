"""The authenticator's alarms: dormant use is told once with the touch, a dead credential
once a day however often it is presented (unauthenticated work stays bounded), a suspended
credential is refused without a word to the alarm, and nothing is told without an alarm."""

from __future__ import annotations

from datetime import timedelta

import pytest
from sqlalchemy import update
from sqlalchemy.orm import Session

from ostiary.clock import utcnow
from ostiary.errors import Unauthorized
from ostiary.events import RequestContext
from ostiary.tokens.authenticator import AuthenticationFinding, TokenAuthenticator
from ostiary.tokens.models import Authorization
from tests.support.factories import Factory

CONTEXT = RequestContext(ip="203.0.113.5", user_agent="curl/8.5.0")


class Alarm:
    """Records what it is told; suspends when asked to."""

    def __init__(self, suspend_with: str | None = None) -> None:
        self.told: list[AuthenticationFinding] = []
        self.suspend_with = suspend_with

    def __call__(self, session: Session, finding: AuthenticationFinding) -> str | None:
        self.told.append(finding)
        return self.suspend_with


def _set(factory: Factory, authorization_id: str, **values: object) -> None:
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(Authorization).where(Authorization.id == authorization_id).values(**values)
        )


def test_dormant_use_is_told_once_with_its_facts(factory: Factory) -> None:
    account = factory.account()
    authorization_id, token = factory.token(account, ["global"])
    _set(factory, authorization_id, last_used_at=utcnow() - timedelta(days=31))
    alarm = Alarm()
    authenticator = TokenAuthenticator(factory.database, factory.hasher, alarm=alarm)
    for _ in range(3):
        assert authenticator.authenticate(token, CONTEXT).authorization_id == authorization_id
    assert [(f.rule, f.account_id, f.authorization_id) for f in alarm.told] == [
        ("dormant-use", account.id, authorization_id)
    ]
    assert alarm.told[0].details["days"] == 31
    assert alarm.told[0].details["address"] == "203.0.113.5"
    assert token not in str(alarm.told[0].details)


def test_the_dormancy_threshold_is_configurable(factory: Factory) -> None:
    account = factory.account()
    authorization_id, token = factory.token(account, ["global"])
    _set(factory, authorization_id, last_used_at=utcnow() - timedelta(days=8))
    alarm = Alarm()
    TokenAuthenticator(factory.database, factory.hasher, alarm=alarm).authenticate(token, CONTEXT)
    assert alarm.told == []
    _set(factory, authorization_id, last_used_at=utcnow() - timedelta(days=8))
    TokenAuthenticator(
        factory.database, factory.hasher, alarm=alarm, dormant_after=timedelta(days=7)
    ).authenticate(token, CONTEXT)
    assert [f.rule for f in alarm.told] == ["dormant-use"]


def test_a_flood_of_a_dead_token_tells_the_alarm_once(factory: Factory) -> None:
    account = factory.account()
    authorization_id, token = factory.token(account, ["global"])
    _set(factory, authorization_id, revoked_at=utcnow())
    alarm = Alarm()
    authenticator = TokenAuthenticator(factory.database, factory.hasher, alarm=alarm)
    for _ in range(200):
        with pytest.raises(Unauthorized) as refused:
            authenticator.authenticate(token, CONTEXT)
        assert refused.value.message == "Invalid credentials provided."
    assert [(f.rule, f.account_id) for f in alarm.told] == [("dead-credential", account.id)]
    assert alarm.told[0].details["reason"] == "revoked token"


def test_an_expired_access_token_of_a_live_grant_tells_nothing(factory: Factory) -> None:
    """Attack: an OAuth access token that expired in the normal refresh cycle would raise
    dead-credential (and could be replayed to make noise about, or suspend, the live grant)."""
    from ostiary.tokens.models import AccessToken

    account = factory.account()
    authorization_id, token = factory.token(account, ["global"])
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(AccessToken)
            .where(AccessToken.authorization_id == authorization_id)
            .values(expires_at=utcnow() - timedelta(minutes=1))
        )
    alarm = Alarm(suspend_with="alert-1")
    authenticator = TokenAuthenticator(factory.database, factory.hasher, alarm=alarm)
    with pytest.raises(Unauthorized) as refused:
        authenticator.authenticate(token, CONTEXT)
    assert refused.value.message == "Invalid credentials provided."
    assert refused.value.audit is not None
    assert refused.value.audit.details == {"reason": "expired token"}
    assert alarm.told == []
    # The authorization itself expired: that token is dead, and told.
    _set(factory, authorization_id, expires_at=utcnow() - timedelta(minutes=1))
    with pytest.raises(Unauthorized):
        authenticator.authenticate(token, CONTEXT)
    assert [(f.rule, f.details["reason"]) for f in alarm.told] == [
        ("dead-credential", "expired token")
    ]


def test_the_request_that_suspends_is_refused_and_so_are_the_next(factory: Factory) -> None:
    account = factory.account()
    authorization_id, token = factory.token(account, ["global"])
    _set(factory, authorization_id, last_used_at=utcnow() - timedelta(days=40))
    alarm = Alarm(suspend_with="alert-1")
    authenticator = TokenAuthenticator(factory.database, factory.hasher, alarm=alarm)
    with pytest.raises(Unauthorized) as refused:
        authenticator.authenticate(token, CONTEXT)
    assert "suspended after a security alert (alert alert-1)" in refused.value.message
    assert refused.value.audit is not None
    assert refused.value.audit.details == {"reason": "suspended credential"}
    _set(factory, authorization_id, suspended_at=utcnow(), suspended_by="alert-1")
    with pytest.raises(Unauthorized, match="suspended"):
        authenticator.authenticate(token, CONTEXT)
    assert len(alarm.told) == 1
    _set(factory, authorization_id, suspended_at=None, suspended_by=None)
    assert authenticator.authenticate(token, CONTEXT).authorization_id == authorization_id


def test_without_an_alarm_nothing_is_told_and_dormant_use_still_works(factory: Factory) -> None:
    account = factory.account()
    authorization_id, token = factory.token(account, ["global"])
    _set(factory, authorization_id, last_used_at=utcnow() - timedelta(days=400))
    principal = TokenAuthenticator(factory.database, factory.hasher).authenticate(token, CONTEXT)
    assert principal.authorization_id == authorization_id


def test_a_suspended_grant_cannot_refresh(factory: Factory) -> None:
    """Attack: a stolen refresh token of a suspended grant would mint tokens that outlive the
    suspension's purpose; the refresh grant sees it as inactive."""
    from ostiary.tokens.models import AuthorizationKind
    from ostiary.tokens.oauth_storage import RefreshTokens
    from ostiary.tokens.services import issue_refresh_token

    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        grant = Authorization(account_id=account.id, kind=AuthorizationKind.OAUTH, scopes=["read"])
        session.add(grant)
        session.flush()
        refresh = issue_refresh_token(factory.unit(session), grant).plaintext
        grant_id = grant.id
    with factory.database.unit_of_work(write=True) as session:
        found = RefreshTokens(factory.unit(session)).find_refresh(refresh)
        assert found is not None
        assert found.authorization_active
    _set(factory, grant_id, suspended_at=utcnow(), suspended_by="alert-1")
    with factory.database.unit_of_work(write=True) as session:
        found = RefreshTokens(factory.unit(session)).find_refresh(refresh)
        assert found is not None
        assert not found.authorization_active
