"""A reported OAuth client secret (``ostc_``) and authorization code (``ostg_``), on a real
database: a live secret stops authenticating at once (the current one retired until the owner
rotates, a previous one's grace ended) with the client's client-credentials authorizations
revoked and its users' grants kept; a live code is spent and its grant revoked; a dead one of
either changes nothing; the event and the "leaked" alert name the client or the grant.

Each runs on SQLite and on PostgreSQL when one is reachable on 127.0.0.1:5432 (a report locks
the client or the code with ``FOR UPDATE``, which only PostgreSQL runs)."""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from datetime import timedelta
from pathlib import Path

import pytest
from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ostiary.alerts.models import Alert
from ostiary.clock import utcnow
from ostiary.errors import Unauthorized
from ostiary.events import SYSTEM, Event
from ostiary.leaks.records import ReportedToken
from ostiary.leaks.services import respond_to_leak
from ostiary.oauth2.requests import ClientCredentials
from ostiary.oauth2.rfc6749.client_auth import authenticate_client
from ostiary.oauth_clients.first_party import CLI_CLIENT_ID
from ostiary.oauth_clients.models import ClientType, OAuthClient
from ostiary.oauth_clients.oauth_storage import Clients
from ostiary.oauth_clients.rules import verify_client_secret
from ostiary.oauth_clients.services import register_client, rotate_secret
from ostiary.security.throttle import MemoryFailureThrottle
from ostiary.security.tokens import TokenKind, mint_token
from ostiary.tokens.client_credentials import ClientCredentialsTokens
from ostiary.tokens.models import Authorization, AuthorizationGrant, AuthorizationKind
from ostiary.tokens.services import issue_access_token, issue_grant
from tests.support.factories import Factory, UserAccount, add_authorization
from tests.support.postgres import migrated_factory

FOUND_AT = "https://github.com/o/r/blob/main/settings.py"


@pytest.fixture(params=["sqlite", pytest.param("postgresql", marks=pytest.mark.postgres)])
def factory(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Factory]:
    """A factory on a freshly migrated database of each dialect."""
    with migrated_factory(request.param, tmp_path, "ostiary_leaks") as made:
        yield made


def _report(token: str, url: str = FOUND_AT) -> ReportedToken:
    return ReportedToken(token=token, type="ostiary_oauth_client_secret", url=url, source="content")


def _reported(factory: Factory, token: str, *, signed: bool) -> bool:
    """Report ``token`` in a transaction of its own, through GitHub's signed channel or the
    public one: whether it was a real secret of ours."""
    with factory.database.unit_of_work(write=True) as session:
        return respond_to_leak(
            factory.unit(session),
            _report(token),
            where="github" if signed else "public-report",
            tell_if_revoked=signed,
        )


def _counts(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Event)) or 0,
        session.scalar(select(func.count()).select_from(Alert)) or 0,
    )


@dataclass(frozen=True)
class Registered:
    """A confidential client with its secret, a client-credentials authorization of it and a
    user's grant to it."""

    owner: UserAccount
    client_id: str
    secret: str
    client_credentials_id: str
    user_grant_id: str


def _of_client(session: Session, account_id: str, kind: AuthorizationKind, client_id: str) -> str:
    """A live authorization of ``kind`` to the client, flushed: its id."""
    row = Authorization(account_id=account_id, kind=kind, scopes=["read"], client_id=client_id)
    session.add(row)
    session.flush()
    return row.id


def _registered(factory: Factory) -> Registered:
    owner, user = factory.account("owner"), factory.account("user")
    with factory.database.unit_of_work(write=True) as session:
        unit = factory.unit(session)
        made = register_client(
            unit,
            owner_id=owner.id,
            name="Deployer",
            redirect_uris=["https://app.example.com/cb"],
            client_type=ClientType.CONFIDENTIAL,
            client_credentials_scopes=["read"],
            creator_scopes=frozenset({"global"}),
        )
        assert made.secret is not None
        machine = _of_client(
            session, owner.id, AuthorizationKind.CLIENT_CREDENTIALS, made.client.id
        )
        grant = _of_client(session, user.id, AuthorizationKind.OAUTH, made.client.id)
        return Registered(owner, made.client.id, made.secret, machine, grant)


def _clients(factory: Factory) -> Clients:
    """The token endpoint's client store over the test's database (its prepared lookup, as the
    server reads clients)."""
    return Clients(factory.database, factory.hasher)


def _authenticates(factory: Factory, client_id: str, secret: str) -> bool:
    """Whether the token endpoint's client authentication accepts the secret (as committed)."""
    throttle = MemoryFailureThrottle(1000, 60, 1000)
    credentials = ClientCredentials(client_id, secret, "client_secret_basic")
    try:
        authenticate_client(_clients(factory), throttle, None, credentials)
    except Unauthorized:
        return False
    return True


def _revoked(factory: Factory, *authorization_ids: str) -> list[bool]:
    with factory.database.unit_of_work(write=False) as session:
        rows = dict(
            session.execute(
                select(Authorization.id, Authorization.revoked_at).where(
                    Authorization.id.in_(authorization_ids)
                )
            ).all()
        )
    return [rows[found] is not None for found in authorization_ids]


def _rotate(factory: Factory, made: Registered, grace_period: int = 0) -> str:
    with factory.database.unit_of_work(write=True) as session:
        client = session.get(OAuthClient, made.client_id)
        assert client is not None
        return rotate_secret(
            factory.unit(session), client, actor_id=made.owner.id, grace_period=grace_period
        )


def test_a_current_secret_is_retired_until_rotated_with_the_client_credentials(
    factory: Factory,
) -> None:
    made = _registered(factory)
    assert _authenticates(factory, made.client_id, made.secret)
    assert _reported(factory, made.secret, signed=True)

    # Refused (invalid_client): confidential still, with no secret, never taken for public.
    assert not _authenticates(factory, made.client_id, made.secret)
    assert not _authenticates(factory, made.client_id, "")
    with factory.database.unit_of_work(write=False) as session:
        client = session.get(OAuthClient, made.client_id)
        assert client is not None
        assert client.client_type == ClientType.CONFIDENTIAL
        assert client.secret_hash is None
        event = session.scalars(
            select(Event).where(Event.action == "oauth:client:leak:revoke")
        ).one()
        assert (event.target_type, event.target_id) == ("client", made.client_id)
        assert event.actor_id == made.owner.id
        assert event.details["which"] == "current"
        assert event.details["client_credentials_revoked"] == 1
        assert event.details["url"] == FOUND_AT
        alert = session.scalars(select(Alert).where(Alert.rule == "leaked")).one()
        assert alert.account_id == made.owner.id
        assert alert.authorization_id is None
        credential = alert.details["credential"]
        assert isinstance(credential, dict)
        assert credential["kind"] == "client_secret"
        assert credential["id"] == made.client_id
        assert "Deployer" in str(alert.details["summary"])
        told = session.scalars(select(Event).where(Event.action == "alert:leaked")).one()
        assert (told.target_type, told.target_id) == ("client", made.client_id)
        written = [str(row.details) for row in session.scalars(select(Event))]
    assert all(made.secret not in text for text in written)
    # The machine's authorization is revoked; the user's grant to the client stays.
    assert _revoked(factory, made.client_credentials_id, made.user_grant_id) == [True, False]

    # Rotating gives a working secret again, with no grace for the retired one (even if asked).
    new = _rotate(factory, made, grace_period=3600)
    assert _authenticates(factory, made.client_id, new)
    assert not _authenticates(factory, made.client_id, made.secret)
    with factory.database.unit_of_work(write=False) as session:
        client = session.get(OAuthClient, made.client_id)
        assert client is not None
        ends = client.previous_secret_expires_at
        assert ends is not None
        assert ends <= utcnow()


def test_a_previous_secret_in_its_grace_ends_and_the_current_one_works(
    factory: Factory,
) -> None:
    made = _registered(factory)
    new = _rotate(factory, made, grace_period=3600)
    assert _authenticates(factory, made.client_id, made.secret)  # in its grace
    assert _reported(factory, made.secret, signed=False)
    assert not _authenticates(factory, made.client_id, made.secret)
    assert _authenticates(factory, made.client_id, new)
    # Whoever held the old secret could mint client-credentials tokens: those go too.
    assert _revoked(factory, made.client_credentials_id, made.user_grant_id) == [True, False]
    with factory.database.unit_of_work(write=False) as session:
        event = session.scalars(
            select(Event).where(Event.action == "oauth:client:leak:revoke")
        ).one()
        assert event.details["which"] == "previous"
        alert = session.scalars(select(Alert).where(Alert.rule == "leaked")).one()
        assert alert.account_id == made.owner.id
        facts = alert.details["facts"]
        assert isinstance(facts, dict)
        assert "remedy" not in facts


@pytest.mark.parametrize("how", ["grace over", "retired already"])
def test_a_dead_secret_is_ours_but_changes_nothing(factory: Factory, how: str) -> None:
    made = _registered(factory)
    if how == "grace over":
        live = _rotate(factory, made, grace_period=3600)
        with factory.database.unit_of_work(write=True) as session:
            session.execute(
                update(OAuthClient)
                .where(OAuthClient.id == made.client_id)
                .values(previous_secret_expires_at=utcnow() - timedelta(seconds=1))
            )
    else:
        _reported(factory, made.secret, signed=True)
        live = _rotate(factory, made)
    with factory.database.unit_of_work(write=True) as session:
        # A later grant of client credentials, which a dead secret's report must leave alone.
        later = _of_client(
            session, made.owner.id, AuthorizationKind.CLIENT_CREDENTIALS, made.client_id
        )
        before = _counts(session)
        unit = factory.unit(session)
        assert respond_to_leak(
            unit,
            _report(made.secret, "https://b.test/1"),
            where="public-report",
            tell_if_revoked=False,
        )
        assert _counts(session) == before  # unsigned: nothing written at all
        assert respond_to_leak(
            unit, _report(made.secret, "https://b.test/2"), where="github", tell_if_revoked=True
        )
        dead_event = session.scalars(
            select(Event)
            .where(Event.action == "oauth:client:leak:revoke")
            .order_by(Event.created_at.desc())
        ).first()
        assert dead_event is not None
        assert dead_event.details["already_dead"] is True
    assert _authenticates(factory, made.client_id, live)
    assert _revoked(factory, later, made.user_grant_id) == [False, False]


def test_an_unknown_secret_or_a_first_party_client_is_noise(factory: Factory) -> None:
    made = _registered(factory)
    look_alike = made.secret[:-1] + ("A" if made.secret[-1] != "A" else "B")
    with factory.database.unit_of_work(write=True) as session:
        first_party = session.get(OAuthClient, CLI_CLIENT_ID)
        assert first_party is not None
        assert first_party.owner_id is None
        assert first_party.secret_hash is None  # nothing a report could name
        before = _counts(session)
        unit = factory.unit(session)
        for token in (mint_token(TokenKind.CLIENT_SECRET), look_alike):
            assert not respond_to_leak(unit, _report(token), where="github", tell_if_revoked=True)
        assert _counts(session) == before
    assert _authenticates(factory, made.client_id, made.secret)


@dataclass(frozen=True)
class Granted:
    """A user's OAuth grant holding a code (unused), an access token and a child."""

    authorization_id: str
    child_id: str
    code: str


def _granted(factory: Factory) -> Granted:
    made = _registered(factory)
    user = factory.account("granting")
    with factory.database.unit_of_work(write=True) as session:
        unit = factory.unit(session)
        grant_id = _of_client(session, user.id, AuthorizationKind.OAUTH, made.client_id)
        grant = session.get(Authorization, grant_id)
        assert grant is not None
        issue_access_token(unit, grant)
        issued = issue_grant(unit, grant)
        child = add_authorization(session, user.id, parent_id=grant.id)
        return Granted(grant.id, child.id, issued.code)


def test_a_live_code_is_spent_and_its_grant_revoked_with_its_children(factory: Factory) -> None:
    granted = _granted(factory)
    assert _reported(factory, granted.code, signed=True)
    assert _revoked(factory, granted.authorization_id, granted.child_id) == [True, True]
    with factory.database.unit_of_work(write=False) as session:
        code = session.scalars(select(AuthorizationGrant)).one()
        assert code.used_at is not None
        event = session.scalars(select(Event).where(Event.action == "token:leak:revoke")).one()
        assert event.target_id == granted.authorization_id
        assert event.details["grant"] == "code"
        alert = session.scalars(select(Alert).where(Alert.rule == "leaked")).one()
        assert alert.authorization_id == granted.authorization_id
        assert granted.code not in str(event.details) + str(alert.details)


@pytest.mark.parametrize("how", ["used", "expired"])
def test_a_used_or_expired_code_is_ours_but_changes_nothing(factory: Factory, how: str) -> None:
    granted = _granted(factory)
    column = "used_at" if how == "used" else "expires_at"
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(AuthorizationGrant).values({column: utcnow() - timedelta(seconds=1)})
        )
    with factory.database.unit_of_work(write=True) as session:
        before = _counts(session)
        assert respond_to_leak(
            factory.unit(session),
            _report(granted.code),
            where="public-report",
            tell_if_revoked=False,
        )
        assert _counts(session) == before
        assert respond_to_leak(
            factory.unit(session), _report(granted.code), where="github", tell_if_revoked=True
        )
    assert _revoked(factory, granted.authorization_id, granted.child_id) == [False, False]


def _staged_token(factory: Factory, made: Registered) -> ClientCredentialsTokens:
    """A client-credentials token as the token endpoint makes it: authenticated against the
    client as committed, minted, its writes staged for the group commit (not yet run)."""
    client = _clients(factory).find_client(made.client_id)
    assert client is not None
    assert verify_client_secret(factory.hasher, client, made.secret)
    store = ClientCredentialsTokens(factory.hasher, SYSTEM, oauth_ttl=3600)
    store.issue_client_credentials(client, made.owner.id, ["read"])
    return store


def _live_client_credentials(factory: Factory, client_id: str) -> int:
    with factory.database.unit_of_work(write=False) as session:
        return (
            session.scalar(
                select(func.count())
                .select_from(Authorization)
                .where(
                    Authorization.client_id == client_id,
                    Authorization.kind == AuthorizationKind.CLIENT_CREDENTIALS,
                    Authorization.revoked_at.is_(None),
                )
            )
            or 0
        )


def test_a_token_authenticated_before_a_report_is_not_committed_after_it(
    factory: Factory,
) -> None:
    made = _registered(factory)
    waiting = _staged_token(factory, made)  # authenticated, waiting for the writer
    assert _reported(factory, made.secret, signed=False)
    with (
        pytest.raises(Unauthorized, match="client changed"),
        factory.database.direct_write() as transaction,
    ):
        waiting.staged[0](transaction)
    assert _live_client_credentials(factory, made.client_id) == 0  # nothing made for it


def test_a_token_staged_while_the_secrets_stand_is_committed(factory: Factory) -> None:
    made = _registered(factory)
    store = _staged_token(factory, made)
    with factory.database.direct_write() as transaction:
        store.staged[0](transaction)
    assert _live_client_credentials(factory, made.client_id) == 1
