"""Rotation without downtime: a regeneration with a grace period retires the old access tokens
instead of revoking them (docs/token-lifecycle.md, "Rotation without downtime").

A retiring token keeps its row and hash, is marked ``retiring_at`` and gets ``expires_at`` at
the grace's end (never later than it had), so the authenticator refuses it afterwards as it
refuses any expired token, and revoking the authorization ends it with the new one. While it
retires its own last use and address are written, so the owner sees who has not moved yet.
A second regeneration during a grace ends the tokens still retiring at once: at most one
generation retires at a time.
"""

from __future__ import annotations

from collections.abc import Sequence
from datetime import datetime

from sqlalchemy import bindparam, or_, select, update
from sqlalchemy.orm import Session

from ostiary.security.grace import grace_end
from ostiary.tokens.models import AccessToken, Authorization

_live = AccessToken.revoked_at.is_(None)

TOUCH_RETIRING = (
    update(AccessToken)
    .where(AccessToken.id == bindparam("access_token_id"))
    .values(last_used_at=bindparam("now"), last_used_ip=bindparam("ip"))
)
"""The last use of a retiring token, by the authenticator (a plain UPDATE on its connection)."""


def retire_access_tokens(
    session: Session, authorization: Authorization, now: datetime, grace_period: int
) -> None:
    """Retire the authorization's live access tokens for ``grace_period`` seconds (> 0), before
    its new token is issued; end at once the ones already retiring or already expired."""
    of_authorization = AccessToken.authorization_id == authorization.id
    session.execute(
        update(AccessToken)
        .where(
            of_authorization,
            _live,
            or_(AccessToken.retiring_at.is_not(None), AccessToken.expires_at <= now),
        )
        .values(revoked_at=now)
    )
    end = grace_end(now, grace_period, None)
    session.execute(
        update(AccessToken)
        .where(
            of_authorization,
            _live,
            or_(AccessToken.expires_at.is_(None), AccessToken.expires_at > end),
        )
        .values(expires_at=end)
    )
    session.execute(update(AccessToken).where(of_authorization, _live).values(retiring_at=now))


def retiring_tokens(
    session: Session, authorizations: Sequence[Authorization], now: datetime
) -> dict[str, list[AccessToken]]:
    """The tokens still retiring (not revoked, grace not over) of each authorization, the ones
    ending first first; one query whatever their number."""
    ids = [authorization.id for authorization in authorizations]
    found: dict[str, list[AccessToken]] = {i: [] for i in ids}
    if not ids:
        return found
    rows = session.scalars(
        select(AccessToken)
        .where(
            AccessToken.authorization_id.in_(ids),
            AccessToken.retiring_at.is_not(None),
            _live,
            AccessToken.expires_at > now,
        )
        .order_by(AccessToken.expires_at)
    )
    for row in rows:
        found[row.authorization_id].append(row)
    return found
