"""Reads of second factors."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from ostiary.events import Event
from ostiary.passkeys.models import Passkey
from ostiary.passkeys.queries import has_passkey
from ostiary.second_factors.models import RecoveryCode, TotpFactor
from ostiary.second_factors.rules import COUNT_RESET_BY, FAILURE_ACTION, PASSKEY, TOTP


def enrolled_factors(session: Session, account_id: str) -> frozenset[str]:
    """The kinds of second factor the account has confirmed: ``"totp"``, and ``"passkey"``
    when it registered one (``ostiary.passkeys``). Empty: the password alone signs in."""
    confirmed = session.scalar(
        select(TotpFactor.account_id).where(
            TotpFactor.account_id == account_id, TotpFactor.confirmed_at.is_not(None)
        )
    )
    kinds = {TOTP} if confirmed is not None else set()
    if has_passkey(session, account_id):
        kinds.add(PASSKEY)
    return frozenset(kinds)


def has_second_factor(account_id: ColumnElement[Any]) -> ColumnElement[bool]:
    """SQL: whether the account whose id is ``account_id`` has a confirmed second factor (the
    authenticator reads it with every token, for ``GET /account``)."""
    return or_(
        exists().where(TotpFactor.account_id == account_id, TotpFactor.confirmed_at.is_not(None)),
        exists().where(Passkey.account_id == account_id),
    )


def totp_factor(
    session: Session, account_id: str, *, for_update: bool = False
) -> TotpFactor | None:
    """The account's TOTP factor, pending or confirmed; locked when ``for_update`` (accepting
    a code moves its last step, and two requests must not both accept the same one)."""
    query = select(TotpFactor).where(TotpFactor.account_id == account_id)
    if for_update:
        query = query.with_for_update()
    return session.scalar(query)


def recovery_codes_left(session: Session, account_id: str) -> int:
    """How many of the account's recovery codes are unused."""
    return (
        session.scalar(
            select(func.count())
            .select_from(RecoveryCode)
            .where(RecoveryCode.account_id == account_id, RecoveryCode.used_at.is_(None))
        )
        or 0
    )


def failures_in_a_row(session: Session, account_id: str, *, since: datetime) -> int:
    """The account's wrong second-factor codes after ``since`` and after its last accepted
    code or password change, read from the activity log (every node writes there, and a
    failure is recorded even though its request rolls back)."""
    reset = (
        select(func.max(Event.created_at))
        .where(
            Event.actor_id == account_id,
            Event.action.in_(COUNT_RESET_BY),
            Event.created_at > since,
        )
        .scalar_subquery()
    )
    counted = select(func.count()).where(
        Event.actor_id == account_id,
        Event.action == FAILURE_ACTION,
        Event.created_at > func.coalesce(reset, since),
    )
    return session.scalar(counted) or 0
