"""The policy where tokens are made and checked, on a migrated database: an OAuth grant's
lifetime, the stricter-of read from the account's row, and the authenticator's effective expiry
and API key age."""

from __future__ import annotations

from dataclasses import replace
from datetime import UTC, datetime, timedelta

import pytest
from sqlalchemy import update

from ostiary.errors import Unauthorized
from ostiary.events import SYSTEM, RequestContext
from ostiary.oauth_clients.models import OAuthClient
from ostiary.policies.models import AccountTokenPolicy
from ostiary.policies.queries import policy_in_force, server_settings
from ostiary.policies.services import update_policy
from ostiary.tokens import device
from ostiary.tokens.authenticator import TokenAuthenticator
from ostiary.tokens.device import HEROKU_CLI_TOKEN_LIFETIME, complete_heroku_cli_login
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind
from ostiary.tokens.rules import OAUTH_CHILD_LIFETIME
from ostiary.tokens.services import grant_code
from ostiary.unit import Unit
from tests.support.factories import Factory

DAY = 86400
CONTEXT = RequestContext(ip="192.0.2.1", user_agent="test")


def _unit(factory: Factory, session: object, **policy: object) -> Unit:
    lifetimes = replace(factory.lifetimes, **policy)  # type: ignore[arg-type]
    return Unit(session=session, hasher=factory.hasher, context=SYSTEM, lifetimes=lifetimes)  # type: ignore[arg-type]


def _client(factory: Factory, owner_id: str) -> OAuthClient:
    with factory.database.unit_of_work(write=True) as session:
        client = OAuthClient(
            name="Example", owner_id=owner_id, redirect_uris=["https://app.example/cb"]
        )
        session.add(client)
        session.flush()
        session.expunge(client)
        return client


@pytest.mark.parametrize(
    ("policy", "lifetime"),
    [
        ({"max_lifetime": 30 * DAY}, 30 * DAY),
        ({"allow_non_expiring": False}, OAUTH_CHILD_LIFETIME),
        ({"non_expiring_scopes": ("identity",)}, OAUTH_CHILD_LIFETIME),
        ({}, None),
    ],
)
def test_an_oauth_grant_lives_as_long_as_the_policy_allows(
    factory: Factory, policy: dict[str, object], lifetime: int | None
) -> None:
    account = factory.account()
    client = _client(factory, account.id)
    with factory.database.unit_of_work(write=True) as session:
        unit = _unit(factory, session, **policy)
        grant = grant_code(
            unit,
            account_id=account.id,
            client=client,
            scopes=["read"],
            redirect_uri=None,
            code_challenge=None,
        )
        expires_at = session.get(Authorization, grant.row.authorization_id).expires_at  # type: ignore[union-attr]
    if lifetime is None:
        assert expires_at is None
    else:
        assert expires_at is not None
        left = (expires_at - datetime.now(UTC)).total_seconds()
        assert lifetime - 60 <= left <= lifetime


def test_the_account_policy_is_read_with_the_servers(factory: Factory) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        unit = _unit(factory, session, max_lifetime=90 * DAY)
        update_policy(unit, account.id, {"max_lifetime": 7 * DAY})
    with factory.database.unit_of_work(write=False) as session:
        lifetimes = replace(factory.lifetimes, max_lifetime=90 * DAY)
        policy = policy_in_force(session, lifetimes, account.id)
        row = session.get(AccountTokenPolicy, account.id)
    assert policy.settings.max_lifetime == 7 * DAY
    assert policy.source("max_lifetime") == "account"
    assert row is not None
    assert row.tightened_at is not None


def test_loosening_within_the_servers_limit_does_not_move_the_change(factory: Factory) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        update_policy(_unit(factory, session), account.id, {"max_lifetime": DAY})
    with factory.database.unit_of_work(write=True) as session:
        first = session.get(AccountTokenPolicy, account.id).tightened_at  # type: ignore[union-attr]
        update_policy(_unit(factory, session), account.id, {"max_lifetime": 2 * DAY})
    with factory.database.unit_of_work(write=False) as session:
        assert session.get(AccountTokenPolicy, account.id).tightened_at == first  # type: ignore[union-attr]


def _authenticator(factory: Factory, **policy: object) -> TokenAuthenticator:
    lifetimes = replace(factory.lifetimes, **policy)  # type: ignore[arg-type]
    return TokenAuthenticator(factory.database, factory.hasher, policy=server_settings(lifetimes))


def test_the_principal_carries_the_effective_expiry(factory: Factory) -> None:
    account = factory.account()
    authorization_id, token = factory.token(account, ["read"])
    changed = datetime.now(UTC) - timedelta(hours=1)
    with factory.database.unit_of_work(write=True) as session:
        # Made two days before the account's policy tightened to a day.
        session.execute(
            update(Authorization)
            .where(Authorization.id == authorization_id)
            .values(created_at=changed - timedelta(days=2))
        )
        session.add(
            AccountTokenPolicy(account_id=account.id, max_lifetime=DAY, tightened_at=changed)
        )
    principal = _authenticator(factory).authenticate(token, CONTEXT)
    assert principal.authorization_id == authorization_id
    assert principal.expires_at is not None
    assert abs((principal.expires_at - (changed + timedelta(days=1))).total_seconds()) < 1
    # Without a tightening, a token without expiry has none.
    other = factory.account()
    _, plain = factory.token(other, ["read"])
    assert _authenticator(factory).authenticate(plain, CONTEXT).expires_at is None


def test_the_api_key_is_refused_past_the_shorter_of_the_two_ages(factory: Factory) -> None:
    account = factory.account()
    made = datetime.now(UTC) - timedelta(hours=2)
    with factory.database.unit_of_work(write=True) as session:
        key_ids = session.scalars(
            Authorization.__table__.select()
            .with_only_columns(Authorization.id)
            .where(
                Authorization.account_id == account.id,
                Authorization.kind == AuthorizationKind.API_KEY,
            )
        ).all()
        session.execute(
            update(AccessToken)
            .where(AccessToken.authorization_id.in_(key_ids))
            .values(created_at=made)
        )
    # The server allows a day: the key works, and says when it must be regenerated.
    principal = _authenticator(factory, api_key_max_age=DAY).authenticate(account.api_key, CONTEXT)
    assert principal.expires_at is not None
    assert abs((principal.expires_at - (made + timedelta(days=1))).total_seconds()) < 1
    # The account allows an hour: refused, saying how to regenerate it.
    with factory.database.unit_of_work(write=True) as session:
        session.add(AccountTokenPolicy(account_id=account.id, api_key_max_age=3600))
    with pytest.raises(Unauthorized, match="regenerate"):
        _authenticator(factory, api_key_max_age=DAY).authenticate(account.api_key, CONTEXT)


@pytest.mark.parametrize(
    ("max_lifetime", "lifetime"), [(30 * DAY, 30 * DAY), (None, HEROKU_CLI_TOKEN_LIFETIME)]
)
def test_the_heroku_cli_login_gets_the_maximum_not_a_refusal(
    factory: Factory, max_lifetime: int | None, lifetime: int
) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        unit = _unit(factory, session, max_lifetime=max_lifetime)
        started = device.start(unit, kind=device.DeviceKind.HEROKU_CLI, scopes=["global"])
        started.row.account_id = account.id
        issued = complete_heroku_cli_login(unit, started.row)
        expires_at = issued.authorization.expires_at
    assert expires_at is not None
    left = (expires_at - datetime.now(UTC)).total_seconds()
    assert lifetime - 60 <= left <= lifetime
