"""Reads of passkeys: an account's list, one of them, one by its credential id."""

from __future__ import annotations

from sqlalchemy import exists, select
from sqlalchemy.orm import Session

from ostiary.passkeys.errors import PasskeyNotFound
from ostiary.passkeys.models import Passkey
from ostiary.passkeys.records import PasskeyListing


def passkeys_of(session: Session, account_id: str) -> list[Passkey]:
    """The account's passkeys, oldest first (then by name: timestamps have whole seconds)."""
    return list(
        session.scalars(
            select(Passkey)
            .where(Passkey.account_id == account_id)
            .order_by(Passkey.created_at, Passkey.name, Passkey.id)
        )
    )


def listings_of(session: Session, account_id: str) -> list[PasskeyListing]:
    """The account's passkeys as the dashboard lists them."""
    return [
        PasskeyListing(
            id=passkey.id,
            name=passkey.name,
            transports=tuple(passkey.transports or ()),
            created_at=passkey.created_at,
            last_used_at=passkey.last_used_at,
        )
        for passkey in passkeys_of(session, account_id)
    ]


def has_passkey(session: Session, account_id: str) -> bool:
    """Whether the account has registered at least one passkey."""
    return bool(session.scalar(select(exists().where(Passkey.account_id == account_id))))


def find_passkey(
    session: Session, account_id: str, passkey_id: str, *, for_update: bool = False
) -> Passkey:
    """One of the account's passkeys; PasskeyNotFound for anyone else's."""
    query = select(Passkey).where(Passkey.id == passkey_id, Passkey.account_id == account_id)
    if for_update:
        query = query.with_for_update()
    found = session.scalar(query)
    if found is None:
        raise PasskeyNotFound
    return found


def by_credential_id(session: Session, credential_id: str) -> Passkey | None:
    """The passkey with this credential id (base64url), locked for its counter's update."""
    return session.scalar(
        select(Passkey).where(Passkey.credential_id == credential_id).with_for_update()
    )
