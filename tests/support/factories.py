"""Test data made through the domain services, in the server's own database."""

from __future__ import annotations

import functools
import itertools
import secrets
from dataclasses import dataclass
from datetime import datetime
from pathlib import Path

from sqlalchemy.orm import Session

from ostiary.accounts.services import new_password_hash
from ostiary.config import load_settings
from ostiary.db import Database
from ostiary.events import SYSTEM
from ostiary.security.hashing import SecretHasher
from ostiary.security.server_secret import load_or_create_secret
from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.tokens.owners import create_account
from ostiary.tokens.services import issue_access_token
from ostiary.unit import Unit, lifetimes_of

_counter = itertools.count()
PASSWORD = "correct horse battery staple"


@dataclass(frozen=True)
class UserAccount:
    """An account made for a test, with its API key's plaintext."""

    id: str
    email: str
    api_key: str


@functools.cache
def _password_hash() -> str:
    # Every account made here has the same password: hash it once, not once per account.
    return new_password_hash(PASSWORD)


class Factory:
    """Makes accounts and scoped tokens directly in a server's database."""

    def __init__(self, data_dir: Path, database_url: str | None = None) -> None:
        settings = load_settings(data_dir=data_dir, database_url=database_url)
        self.database = Database(settings.effective_database_url)
        self.hasher = SecretHasher(load_or_create_secret(settings))
        self.lifetimes = lifetimes_of(settings)

    def unit(self, session: Session) -> Unit:
        """A unit of work on ``session``, as the system (no request)."""
        return Unit(session=session, hasher=self.hasher, context=SYSTEM, lifetimes=self.lifetimes)

    def account(self, name: str = "user") -> UserAccount:
        """A new account with a unique email."""
        email = f"{name}-{next(_counter)}-{secrets.token_hex(3)}@example.com"
        with self.database.unit_of_work(write=True) as session:
            # Made as an administrator makes them: verified (sign-up's unverified accounts
            # are tests/functional/test_account_recovery.py's).
            created = create_account(
                self.unit(session), email=email, password_hash=_password_hash(), verified=True
            )
            return UserAccount(created.account.id, created.account.email, created.api_key.plaintext)

    def token(
        self,
        account: UserAccount,
        scopes: list[str],
        *,
        expires_at: datetime | None = None,
    ) -> tuple[str, str]:
        """A personal authorization with these scopes: (authorization id, token plaintext)."""
        with self.database.unit_of_work(write=True) as session:
            authorization = Authorization(
                account_id=account.id,
                kind=AuthorizationKind.PERSONAL,
                scopes=scopes,
                description="test token",
                expires_at=expires_at,
            )
            session.add(authorization)
            issued = issue_access_token(self.unit(session), authorization)
            session.flush()
            return authorization.id, issued.plaintext

    def close(self) -> None:
        """Release the database connections."""
        self.database.dispose()


def add_authorization(session: Session, account_id: str, **fields: object) -> Authorization:
    """A personal, global authorization of the account, flushed (``fields`` override)."""
    row = Authorization(
        account_id=account_id, kind=AuthorizationKind.PERSONAL, scopes=["global"], **fields
    )
    session.add(row)
    session.flush()
    return row
