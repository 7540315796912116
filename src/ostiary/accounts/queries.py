"""Queries for accounts."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.accounts.models import Account


def normalize_email(email: str) -> str:
    """The stored form of an email address: trimmed and lower-cased."""
    return email.strip().lower()


def find_by_email(session: Session, email: str) -> Account | None:
    """The account with this email (any case), if any."""
    return session.scalar(select(Account).where(Account.email == normalize_email(email)))


def find_by_id_or_email(session: Session, identity: str) -> Account | None:
    """The account named by its id or its email."""
    if "@" in identity:
        return find_by_email(session, identity)
    return session.get(Account, identity)


def any_account_exists(session: Session) -> bool:
    """Whether at least one account exists."""
    return session.scalar(select(Account.id).limit(1)) is not None


def account_disabled(session: Session, account_id: str) -> bool:
    """Whether an administrator disabled the account (no new tokens for it, by any grant)."""
    return session.scalar(select(Account.disabled_at).where(Account.id == account_id)) is not None
