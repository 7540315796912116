"""Signing in with a proved password (``accounts/passwords.py`` proves it before the
transaction): the login recorded, a login session opened, and for the API's password login
(``heroku login -i``) the authorization that dies with that session. Services never commit."""

from __future__ import annotations

from datetime import datetime

from ostiary.accounts.models import LoginSession
from ostiary.accounts.passwords import ProvedPassword, record_login
from ostiary.accounts.sessions import open_session
from ostiary.unit import Unit


def sign_in(
    unit: Unit, proof: ProvedPassword, *, description: str, expires_at: datetime | None
) -> LoginSession:
    """Record the proved login and open its session."""
    account = record_login(unit, proof)
    return open_session(unit, account_id=account.id, description=description, expires_at=expires_at)
