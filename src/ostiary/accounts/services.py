"""Creating, updating and authenticating accounts. Services never commit."""

from __future__ import annotations

import re
import secrets
from dataclasses import dataclass

from sqlalchemy.orm import Session

from ostiary.accounts.models import Account
from ostiary.accounts.stores import find_by_email, normalize_email
from ostiary.clock import utcnow
from ostiary.errors import Conflict, InvalidParams, Unauthorized
from ostiary.events import Audit, RequestContext, record_event
from ostiary.security.hashing import SecretHasher
from ostiary.security.passwords import hash_password, needs_rehash, verify_password
from ostiary.tokens.services import IssuedToken, create_api_key

EMAIL_PATTERN = re.compile(r"^[^@\s]+@[^@\s]+\.[^@\s]+$")
MIN_PASSWORD_LENGTH = 10


@dataclass(frozen=True, slots=True)
class NewAccount:
    """A created account and its API key, whose plaintext is shown once."""

    account: Account
    api_key: IssuedToken


def generate_password() -> str:
    """A random password for a first account, to be printed once."""
    return secrets.token_urlsafe(18)


def validate_password(password: str) -> None:
    """Refuse passwords too short to resist guessing."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise InvalidParams(
            "password", f"Password must be at least {MIN_PASSWORD_LENGTH} characters."
        )


def create_account(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    *,
    email: str,
    password: str,
    name: str | None = None,
) -> NewAccount:
    """Create an account with an argon2id password hash and its API key."""
    normalized = normalize_email(email)
    if not EMAIL_PATTERN.match(normalized) or len(normalized) > 254:
        raise InvalidParams("email", f"{email!r} is not a valid email address.")
    validate_password(password)
    if find_by_email(session, normalized) is not None:
        raise Conflict(f"An account with the email {normalized} already exists.")
    account = Account(email=normalized, name=name, password_hash=hash_password(password))
    session.add(account)
    session.flush()
    record_event(
        session,
        context,
        "account:create",
        actor_id=account.id,
        target_type="account",
        target_id=account.id,
    )
    return NewAccount(account=account, api_key=create_api_key(session, hasher, account, context))


def update_account(
    session: Session,
    context: RequestContext,
    account: Account,
    *,
    changes: dict[str, object],
) -> Account:
    """Apply the fields a client may change on its own account: name, allow_tracking, beta."""
    for field, value in changes.items():
        setattr(account, field, value)
    if changes:
        account.updated_at = utcnow()
        record_event(
            session,
            context,
            "account:update",
            actor_id=account.id,
            target_type="account",
            target_id=account.id,
            details={"fields": sorted(changes)},
        )
    return account


def authenticate_password(
    session: Session, context: RequestContext, email: str, password: str
) -> Account:
    """The account for an email and password, or Unauthorized.

    An unknown email costs the same argon2 verification as a known one.
    """
    account = find_by_email(session, email)
    if not verify_password(account.password_hash if account else None, password):
        raise Unauthorized(
            "Invalid credentials provided.",
            audit=Audit(
                "auth:password:failure",
                actor_id=account.id if account else None,
                details={"reason": "unknown email" if account is None else "wrong password"},
            ),
        )
    assert account is not None
    assert account.password_hash is not None
    if needs_rehash(account.password_hash):
        account.password_hash = hash_password(password)
    account.last_login = utcnow()
    record_event(session, context, "auth:password:success", actor_id=account.id)
    return account


def change_password(
    session: Session, context: RequestContext, account: Account, *, current: str, new: str
) -> None:
    """Replace the password after checking the current one."""
    if not verify_password(account.password_hash, current):
        raise Unauthorized(
            "The current password is not right.",
            audit=Audit("account:password:failure", actor_id=account.id),
        )
    validate_password(new)
    account.password_hash = hash_password(new)
    account.updated_at = utcnow()
    record_event(
        session, context, "account:password:change", actor_id=account.id, target_id=account.id
    )


def change_email(session: Session, context: RequestContext, account: Account, email: str) -> None:
    """Move the account to another email address, if no other account has it."""
    normalized = normalize_email(email)
    if normalized == account.email:
        return
    if not EMAIL_PATTERN.match(normalized) or len(normalized) > 254:
        raise InvalidParams("email", f"{email!r} is not a valid email address.")
    if find_by_email(session, normalized) is not None:
        raise Conflict(f"An account with the email {normalized} already exists.")
    account.email = normalized
    account.updated_at = utcnow()
    record_event(
        session, context, "account:email:change", actor_id=account.id, target_id=account.id
    )
