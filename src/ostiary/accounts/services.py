"""Creating and updating accounts; changing their passwords. Services take the request's
:class:`~ostiary.unit.Unit` and never commit.

Passwords are proved in ``accounts/passwords.py``."""

from __future__ import annotations

from ostiary.accounts.errors import EmailTaken, InvalidEmail
from ostiary.accounts.models import Account
from ostiary.accounts.queries import find_by_email, normalize_email
from ostiary.accounts.rules import EMAIL_PATTERN, validate_password
from ostiary.security.passwords import hash_password
from ostiary.unit import Unit


def new_password_hash(password: str) -> str:
    """A valid new password's argon2id hash, computed here (for the command line; servers hash
    in their pool: ``accounts/passwords.py``)."""
    validate_password(password)
    return hash_password(password)


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


def change_email(unit: Unit, account: Account, email: str) -> None:
    """Move the account to another email address, if no other account has it."""
    normalized = normalize_email(email)
    if normalized == account.email:
        return
    if not EMAIL_PATTERN.match(normalized) or len(normalized) > 254:
        raise InvalidEmail(email)
    if find_by_email(unit.session, normalized) is not None:
        raise EmailTaken(normalized)
    account.email = normalized
    account.updated_at = unit.now()
    unit.record("account:email:change", actor_id=account.id, target_id=account.id)


def add_account(
    unit: Unit,
    *,
    email: str,
    password_hash: str,
    name: str | None = None,
) -> Account:
    """Create an account with its password's argon2id hash (``tokens.owners.create_account``
    gives it its API key too)."""
    normalized = normalize_email(email)
    if not EMAIL_PATTERN.match(normalized) or len(normalized) > 254:
        raise InvalidEmail(email)
    if find_by_email(unit.session, normalized) is not None:
        raise EmailTaken(normalized)
    account = Account(email=normalized, name=name, password_hash=password_hash)
    unit.session.add(account)
    unit.session.flush()
    unit.record("account:create", actor_id=account.id, target_type="account", target_id=account.id)
    return account
