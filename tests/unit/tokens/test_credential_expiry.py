"""The expiry the authenticator exposes (``Principal.expires_at``, shown as
``Ostiary-Token-Expires``): the earliest of the access token's and its authorization's, the API
key's creation plus ``OSTIARY_API_KEY_MAX_AGE``, and None for what never expires."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select, update

from ostiary.clock import utcnow
from ostiary.events import RequestContext
from ostiary.policies.records import PolicySettings
from ostiary.tokens.authenticator import TokenAuthenticator
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind
from tests.support.factories import Factory

CONTEXT = RequestContext(ip="203.0.113.5")


NINETY_DAYS = PolicySettings(api_key_max_age=90 * 86400)


def test_the_earlier_of_the_token_and_its_authorization(factory: Factory) -> None:
    account = factory.account()
    later = utcnow() + timedelta(days=30)
    earlier = utcnow() + timedelta(days=3)
    authorization_id, token = factory.token(account, ["global"], expires_at=later)
    authenticator = TokenAuthenticator(factory.database, factory.hasher)
    assert authenticator.authenticate(token, CONTEXT).expires_at == later
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(AccessToken)
            .where(AccessToken.authorization_id == authorization_id)
            .values(expires_at=earlier)
        )
    assert authenticator.authenticate(token, CONTEXT).expires_at == earlier


def test_none_for_a_credential_that_never_expires(factory: Factory) -> None:
    account = factory.account()
    _, token = factory.token(account, ["global"])
    authenticator = TokenAuthenticator(factory.database, factory.hasher, policy=NINETY_DAYS)
    # The maximum age is the API key's alone: a personal token is not aged by it.
    assert authenticator.authenticate(token, CONTEXT).expires_at is None
    assert (
        TokenAuthenticator(factory.database, factory.hasher)
        .authenticate(account.api_key, CONTEXT)
        .expires_at
        is None
    )


def test_the_api_key_expires_at_its_last_regeneration_plus_the_maximum_age(
    factory: Factory,
) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=False) as session:
        issued_at = session.scalar(
            select(AccessToken.created_at)
            .join(Authorization, Authorization.id == AccessToken.authorization_id)
            .where(
                Authorization.account_id == account.id,
                Authorization.kind == AuthorizationKind.API_KEY,
                AccessToken.revoked_at.is_(None),
            )
        )
    assert issued_at is not None
    authenticator = TokenAuthenticator(factory.database, factory.hasher, policy=NINETY_DAYS)
    principal = authenticator.authenticate(account.api_key, CONTEXT)
    assert principal.expires_at == issued_at + timedelta(days=90)
