"""What the listing of authorizations shows as each one's token (tokens.queries.live_tokens): the
newest access token that is not revoked. (How fast that stays with a million stored tokens is
measured by bench/million_tokens.py.)"""

from __future__ import annotations

from datetime import timedelta

from ostiary.clock import utcnow
from ostiary.tokens.models import AccessToken
from ostiary.tokens.queries import live_tokens
from tests.support.factories import Factory, add_authorization


def _token(
    authorization_id: str, name: str, age: timedelta, *, revoked: bool = False
) -> AccessToken:
    now = utcnow()
    return AccessToken(
        authorization_id=authorization_id,
        token_hash=name.ljust(64, "0"),
        display_head="osta_" + name[:4],
        display_tail=name[-4:],
        created_at=now - age,
        revoked_at=now if revoked else None,
    )


def test_each_authorization_shows_its_newest_live_token(factory: Factory) -> None:
    account = factory.account()
    with factory.database.unit_of_work(write=True) as session:
        many = add_authorization(session, account.id)
        one = add_authorization(session, account.id)
        none = add_authorization(session, account.id)
        session.add_all(
            [
                _token(many.id, "oldest", timedelta(hours=3)),
                _token(many.id, "newest", timedelta(hours=1)),
                _token(many.id, "middle", timedelta(hours=2)),
                # Newer still, but revoked: not what the listing shows.
                _token(many.id, "revoked", timedelta(minutes=1), revoked=True),
                _token(one.id, "single", timedelta(days=1)),
                _token(none.id, "gone", timedelta(minutes=5), revoked=True),
            ]
        )
        session.flush()
        found = live_tokens(session, [many, one, none])
    newest, single = found[many.id].access, found[one.id].access
    assert newest is not None
    assert newest.display_tail == "west"
    assert single is not None
    assert single.display_tail == "ngle"
    assert found[none.id].access is None
