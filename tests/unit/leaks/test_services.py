"""Responding to a leak (leaks.services) on a real database: each kind of stored token is
found by its hash and revoked with what it grants, the event and the "leaked" alert name where
it was found, and nothing else is touched."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from ostiary.alerts.models import Alert
from ostiary.clock import utcnow
from ostiary.events import Event
from ostiary.leaks.records import ReportedToken
from ostiary.leaks.services import respond_to_leak
from ostiary.security.tokens import TokenKind, mint_token
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind
from ostiary.tokens.services import issue_access_token, issue_refresh_token, regenerate
from tests.support.factories import Factory, add_authorization


def _report(token: str, url: str = "https://github.com/o/r/blob/main/x.env") -> ReportedToken:
    return ReportedToken(token=token, type="ostiary_token", url=url, source="content")


def _counts(session: Session) -> tuple[int, int]:
    return (
        session.scalar(select(func.count()).select_from(Event)) or 0,
        session.scalar(select(func.count()).select_from(Alert)) or 0,
    )


def test_a_personal_token_found_is_revoked_with_its_children_and_its_owner_told(
    factory: Factory,
) -> None:
    account = factory.account()
    parent_id, token = factory.token(account, ["global"])
    with factory.database.unit_of_work(write=True) as session:
        child = add_authorization(session, account.id, parent_id=parent_id)
        unit = factory.unit(session)
        assert respond_to_leak(unit, _report(token), where="github", tell_if_revoked=True)
    with factory.database.unit_of_work(write=False) as session:
        revoked = session.scalars(
            select(Authorization.revoked_at).where(Authorization.id.in_([parent_id, child.id]))
        ).all()
        assert all(at is not None for at in revoked)
        event = session.scalars(select(Event).where(Event.action == "token:leak:revoke")).one()
        assert event.target_id == parent_id
        assert event.details["url"] == "https://github.com/o/r/blob/main/x.env"
        alert = session.scalars(select(Alert).where(Alert.rule == "leaked")).one()
        assert alert.account_id == account.id
        assert alert.authorization_id == parent_id


def test_the_api_key_loses_its_token_but_stays_to_be_regenerated(factory: Factory) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        assert respond_to_leak(
            factory.unit(session), _report(account.api_key), where="github", tell_if_revoked=True
        )
    with factory.database.unit_of_work(write=False) as session:
        key = session.scalars(
            select(Authorization).where(
                Authorization.account_id == account.id,
                Authorization.kind == AuthorizationKind.API_KEY,
            )
        ).one()
        assert key.revoked_at is None
        tokens = session.scalars(
            select(AccessToken).where(AccessToken.authorization_id == key.id)
        ).all()
        assert [t.revoked_at is not None for t in tokens] == [True]


def test_a_refresh_token_found_revokes_its_whole_family(factory: Factory) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        unit = factory.unit(session)
        grant = Authorization(account_id=account.id, kind=AuthorizationKind.OAUTH, scopes=["read"])
        session.add(grant)
        session.flush()
        issue_access_token(unit, grant)
        refresh = issue_refresh_token(unit, grant)
        session.flush()
        grant_id = grant.id
        assert respond_to_leak(
            unit, _report(refresh.plaintext), where="github", tell_if_revoked=True
        )
    with factory.database.unit_of_work(write=False) as session:
        assert session.get(Authorization, grant_id).revoked_at is not None  # type: ignore[union-attr]


def test_noise_touches_nothing(factory: Factory) -> None:
    account = factory.account()
    _, real = factory.token(account, ["global"])
    look_alike = real[:-1] + ("A" if real[-1] != "A" else "B")
    unknown = mint_token(TokenKind.AUTHORIZATION)  # well formed, never issued
    code = mint_token(TokenKind.GRANT_CODE)
    with factory.database.unit_of_work(write=True) as session:
        before = _counts(session)
        unit = factory.unit(session)
        for token in (look_alike, unknown, code, "hello"):
            assert not respond_to_leak(unit, _report(token), where="github", tell_if_revoked=True)
        assert _counts(session) == before
        live = session.scalar(
            select(func.count())
            .select_from(Authorization)
            .where(Authorization.revoked_at.is_(None))
        )
        assert live == 2  # the API key and the token, both still live


def test_a_public_report_of_a_revoked_token_writes_nothing_more(factory: Factory) -> None:
    account = factory.account()
    _, token = factory.token(account, ["global"])
    with factory.database.unit_of_work(write=True) as session:
        unit = factory.unit(session)
        assert respond_to_leak(
            unit, _report(token, "https://a.test"), where="public-report", tell_if_revoked=False
        )
        after_first = _counts(session)
        for n in range(5):  # a flood of reports of the same token at new places
            assert respond_to_leak(
                unit,
                _report(token, f"https://b.test/{n}"),
                where="public-report",
                tell_if_revoked=False,
            )
        assert _counts(session) == after_first


def test_a_token_pasted_into_the_url_is_not_stored(factory: Factory) -> None:
    account = factory.account()
    _, token = factory.token(account, ["global"])
    with factory.database.unit_of_work(write=True) as session:
        respond_to_leak(
            factory.unit(session),
            _report(token, f"https://paste.test/?t={token}"),
            where="public-report",
            tell_if_revoked=False,
        )
    with factory.database.unit_of_work(write=False) as session:
        event = session.scalars(select(Event).where(Event.action == "token:leak:revoke")).one()
        assert token not in str(event.details)
        assert event.details["url"] == "https://paste.test/?t=[redacted token]"


def _rotated_with_grace(factory: Factory) -> tuple[str, str, str]:
    """A personal token rotated with an hour's grace: its authorization, old and new token."""
    account = factory.account()
    authorization_id, old = factory.token(account, ["global"])
    with factory.database.unit_of_work(write=True) as session:
        authorization = session.get(Authorization, authorization_id)
        assert authorization is not None
        issued = regenerate(factory.unit(session), authorization, grace_period=3600)
    return authorization_id, old, issued.access.plaintext


def test_a_retiring_token_reported_ends_alone_and_its_replacement_stays(
    factory: Factory,
) -> None:
    authorization_id, old, new = _rotated_with_grace(factory)
    with factory.database.unit_of_work(write=True) as session:
        unit = factory.unit(session)
        assert respond_to_leak(unit, _report(old), where="github", tell_if_revoked=True)
    with factory.database.unit_of_work(write=False) as session:
        assert session.get(Authorization, authorization_id).revoked_at is None  # type: ignore[union-attr]
        tokens = dict(
            session.execute(
                select(AccessToken.token_hash, AccessToken.revoked_at).where(
                    AccessToken.authorization_id == authorization_id
                )
            ).all()
        )
    assert tokens[factory.hasher.hash(old)] is not None
    assert tokens[factory.hasher.hash(new)] is None


def test_a_dead_copy_reported_revokes_nothing(factory: Factory) -> None:
    # The grace is over: whoever holds the old token holds nothing, and a report of it (by
    # anyone, unauthenticated) must not revoke the credential that replaced it.
    authorization_id, old, new = _rotated_with_grace(factory)
    with factory.database.unit_of_work(write=True) as session:
        session.execute(
            update(AccessToken)
            .where(AccessToken.token_hash == factory.hasher.hash(old))
            .values(expires_at=utcnow() - timedelta(seconds=1))
        )
    for where, tell in (("public-report", False), ("github", True)):
        with factory.database.unit_of_work(write=True) as session:
            unit = factory.unit(session)
            assert respond_to_leak(unit, _report(old), where=where, tell_if_revoked=tell)
    with factory.database.unit_of_work(write=False) as session:
        assert session.get(Authorization, authorization_id).revoked_at is None  # type: ignore[union-attr]
        live = session.scalar(
            select(AccessToken.revoked_at).where(AccessToken.token_hash == factory.hasher.hash(new))
        )
    assert live is None
