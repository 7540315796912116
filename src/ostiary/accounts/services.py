"""Creating and updating accounts; changing their passwords. Services take the request's
:class:`~ostiary.unit.Unit` and never commit.

Passwords are proved in ``accounts/passwords.py``."""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import select

from ostiary.accounts.models import Account, LoginSession
from ostiary.accounts.queries import find_by_email, normalize_email
from ostiary.accounts.rules import EMAIL_PATTERN, validate_password
from ostiary.accounts.sessions import close_session
from ostiary.errors import Conflict, InvalidParams
from ostiary.security.passwords import hash_password
from ostiary.tokens.queries import api_key_of
from ostiary.tokens.records import IssuedAuthorization, IssuedToken
from ostiary.tokens.services import create_api_key, regenerate
from ostiary.unit import Unit


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A created account and its API key, whose plaintext is shown once."""

    account: Account
    api_key: IssuedToken


def new_password_hash(password: str) -> str:
    """A valid new password's argon2id hash, computed here (for the command line; servers hash
    in their pool: ``accounts/passwords.py``)."""
    validate_password(password)
    return hash_password(password)


def create_account(
    unit: Unit,
    *,
    email: str,
    password_hash: str,
    name: str | None = None,
) -> NewAccount:
    """Create an account with its password's argon2id hash, and its API key."""
    normalized = normalize_email(email)
    if not EMAIL_PATTERN.match(normalized) or len(normalized) > 254:
        raise InvalidParams("email", f"{email!r} is not a valid email address.")
    if find_by_email(unit.session, normalized) is not None:
        raise Conflict(f"An account with the email {normalized} already exists.")
    account = Account(email=normalized, name=name, password_hash=password_hash)
    unit.session.add(account)
    unit.session.flush()
    unit.record("account:create", actor_id=account.id, target_type="account", target_id=account.id)
    return NewAccount(account=account, api_key=create_api_key(unit, account))


def update_account(
    unit: Unit,
    account: Account,
    *,
    changes: dict[str, object],
) -> Account:
    """Apply the fields a client may change on its own account: name, allow_tracking, beta."""
    for field, value in changes.items():
        setattr(account, field, value)
    if changes:
        account.updated_at = unit.now()
        unit.record(
            "account:update",
            actor_id=account.id,
            target_type="account",
            target_id=account.id,
            details={"fields": sorted(changes)},
        )
    return account


def change_password(
    unit: Unit,
    account: Account,
    *,
    new_hash: str,
    keep_session_id: str | None,
) -> IssuedAuthorization:
    """Replace the password (the caller proved the current one and hashed the new one).

    As on Heroku, the API key expires with the old password: it is regenerated, and so are the
    tokens made with it. Every session but ``keep_session_id`` ends, with the tokens made
    through it. Answers the new API key, to be shown once.
    """
    account.password_hash = new_hash
    account.updated_at = unit.now()
    others = unit.session.scalars(
        select(LoginSession).where(
            LoginSession.account_id == account.id,
            LoginSession.id != keep_session_id,
            LoginSession.ended_at.is_(None),
        )
    ).all()
    for login in others:
        close_session(unit, login, actor_id=account.id)
    key = api_key_of(unit.session, account.id, for_update=True)
    issued = regenerate(unit, key)
    unit.record(
        "account:password:change",
        actor_id=account.id,
        target_id=account.id,
        details={"sessions_ended": len(others), "api_key_regenerated": True},
    )
    return issued


def change_email(unit: Unit, account: Account, email: str) -> None:
    """Move the account to another email address, if no other account has it."""
    normalized = normalize_email(email)
    if normalized == account.email:
        return
    if not EMAIL_PATTERN.match(normalized) or len(normalized) > 254:
        raise InvalidParams("email", f"{email!r} is not a valid email address.")
    if find_by_email(unit.session, normalized) is not None:
        raise Conflict(f"An account with the email {normalized} already exists.")
    account.email = normalized
    account.updated_at = unit.now()
    unit.record("account:email:change", actor_id=account.id, target_id=account.id)
