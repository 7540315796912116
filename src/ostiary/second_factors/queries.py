"""Reads of second factors."""

from __future__ import annotations

from typing import Any

from sqlalchemy import ColumnElement, exists, func, or_, select
from sqlalchemy.orm import Session

from ostiary.passkeys.models import Passkey
from ostiary.passkeys.queries import has_passkey
from ostiary.second_factors.models import RecoveryCode, TotpFactor
from ostiary.second_factors.rules import PASSKEY, TOTP


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
