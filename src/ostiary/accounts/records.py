"""What the account code hands back besides ORM rows: an account as the hot path reads it."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from ostiary.accounts.models import Account
from ostiary.db import table_of
from ostiary.prepared import ReadModel


@dataclass(frozen=True, slots=True)
class AccountSnapshot:
    """The account's fields as read with the token: enough to answer ``GET /account``."""

    id: str
    email: str
    name: str | None
    allow_tracking: bool
    beta: bool
    created_at: datetime
    updated_at: datetime
    last_login: datetime | None
    # Whether the account has a second factor: the authenticator reads it with the token
    # (``tokens/authenticator.py``, from ``second_factors.queries.has_second_factor``).
    two_factor_authentication: bool = False
    # Whether the owner proved the address (``GET /account``'s ``verified``), and whether an
    # administrator disabled the account (the authenticator refuses its credentials).
    email_verified_at: datetime | None = None
    disabled_at: datetime | None = None


ACCOUNT_SNAPSHOT = ReadModel(AccountSnapshot, table_of(Account))
"""An :class:`AccountSnapshot` reads the columns of the same names."""
