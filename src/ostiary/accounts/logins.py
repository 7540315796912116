"""Signing in with a proved password (``accounts/passwords.py`` proves it before the
transaction): the login recorded, a login session opened, and for the API's password login
(``heroku login -i``) the authorization that dies with that session. Services never commit."""

from __future__ import annotations

from datetime import datetime, timedelta

from ostiary.accounts.models import LoginSession
from ostiary.accounts.passwords import ProvedPassword, record_login
from ostiary.accounts.sessions import open_session
from ostiary.tokens.records import IssuedAuthorization, RequestedAuthorization
from ostiary.tokens.rules import parse_expires_in
from ostiary.tokens.scopes import ALL_SCOPES
from ostiary.tokens.services import create_requested
from ostiary.unit import Unit


def sign_in(
    unit: Unit, proof: ProvedPassword, *, description: str, expires_at: datetime | None
) -> LoginSession:
    """Record the proved login and open its session."""
    account = record_login(unit, proof)
    return open_session(unit, account_id=account.id, description=description, expires_at=expires_at)


def password_login(
    unit: Unit, proof: ProvedPassword, requested: RequestedAuthorization
) -> IssuedAuthorization:
    """The API's password login: a session living as long as the authorization asked for, and
    that authorization, made through the session (revoking the session revokes it). The
    password stands for every scope."""
    expires_in = parse_expires_in(requested.expires_in)
    login = sign_in(
        unit,
        proof,
        description=requested.description or "Password login",
        expires_at=unit.now() + timedelta(seconds=expires_in) if expires_in else None,
    )
    return create_requested(
        unit,
        requested,
        account_id=login.account_id,
        creator_scopes=ALL_SCOPES,
        login_session_id=login.id,
    )
