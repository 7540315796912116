"""Regenerating with a grace period (tokens.rotation), without a server: the old access tokens
retire until the grace's end (never past their own expiry), listings name the new token and the
retiring ones apart, and a second rotation ends what was still retiring."""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.clock import utcnow
from ostiary.tokens.models import AccessToken, Authorization
from ostiary.tokens.queries import live_tokens
from ostiary.tokens.rotation import retiring_tokens
from ostiary.tokens.services import issue_access_token, regenerate
from tests.support.factories import Factory, add_authorization


def _tokens(session: Session, authorization: Authorization) -> dict[str, AccessToken]:
    rows = session.scalars(
        select(AccessToken).where(AccessToken.authorization_id == authorization.id)
    )
    return {row.id: row for row in rows}


def test_a_grace_retires_the_old_token_and_the_new_one_is_the_live_one(factory: Factory) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        unit = factory.unit(session)
        authorization = add_authorization(session, account.id)
        old = issue_access_token(unit, authorization).row
        session.flush()
        issued = regenerate(unit, authorization, grace_period=60)
        session.flush()
        session.expire_all()
        rows = _tokens(session, authorization)
        retired, new = rows[old.id], rows[issued.access.row.id]
        assert retired.revoked_at is None
        assert retired.retiring_at is not None
        assert retired.expires_at is not None
        assert retired.expires_at - retired.retiring_at == timedelta(seconds=60)
        assert new.retiring_at is None
        assert new.revoked_at is None
        assert new.expires_at is None
        live = live_tokens(session, [authorization])[authorization.id].access
        assert live is not None
        assert live.id == new.id
        assert [
            r.id for r in retiring_tokens(session, [authorization], utcnow())[authorization.id]
        ] == [old.id]
        # Past the grace it is no longer listed (and the authenticator refuses it as expired).
        later = utcnow() + timedelta(seconds=61)
        assert retiring_tokens(session, [authorization], later)[authorization.id] == []


def test_a_grace_never_lengthens_a_token_that_expires_sooner(factory: Factory) -> None:
    account = factory.account()
    soon = utcnow() + timedelta(seconds=30)
    with factory.database.unit_of_work(write=True) as session:
        unit = factory.unit(session)
        authorization = add_authorization(session, account.id, expires_at=soon)
        old = issue_access_token(unit, authorization).row
        session.flush()
        regenerate(unit, authorization, grace_period=3600)
        session.flush()
        session.expire_all()
        assert _tokens(session, authorization)[old.id].expires_at == soon


def test_a_second_rotation_ends_the_retiring_token_and_no_grace_ends_all(
    factory: Factory,
) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        unit = factory.unit(session)
        authorization = add_authorization(session, account.id)
        first = issue_access_token(unit, authorization).row
        session.flush()
        second = regenerate(unit, authorization, grace_period=600).access.row
        session.flush()
        third = regenerate(unit, authorization, grace_period=600).access.row
        session.flush()
        session.expire_all()
        rows = _tokens(session, authorization)
        assert rows[first.id].revoked_at is not None
        assert rows[second.id].revoked_at is None
        assert rows[second.id].retiring_at is not None
        fourth = regenerate(unit, authorization).access.row
        session.flush()
        session.expire_all()
        rows = _tokens(session, authorization)
        assert [i for i, row in rows.items() if row.revoked_at is None] == [fourth.id]
        assert third.id in rows
