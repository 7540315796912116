"""What changes to the owners of credentials do to the credentials.

A new account gets its API key; a password change regenerates the key and ends the other
sessions; an ended session revokes what was made through it; the API's password login makes its
authorization through a new session; a deleted client takes every grant to it along. These live
here, above ``accounts`` and ``oauth_clients``, because they change tokens (docs/architecture.md,
"Layers"). Services take the request's :class:`~ostiary.unit.Unit` and never commit.
"""

from __future__ import annotations

from datetime import timedelta

from sqlalchemy import func, select

from ostiary.accounts.logins import sign_in
from ostiary.accounts.models import Account, LoginSession
from ostiary.accounts.passwords import ProvedPassword
from ostiary.accounts.services import add_account
from ostiary.accounts.sessions import live_sessions_of
from ostiary.oauth_clients.models import OAuthClient
from ostiary.scopes import ALL_SCOPES
from ostiary.tokens.models import Authorization
from ostiary.tokens.queries import api_key_of
from ostiary.tokens.records import IssuedAuthorization, NewAccount, RequestedAuthorization
from ostiary.tokens.rules import parse_expires_in
from ostiary.tokens.services import (
    create_api_key,
    create_requested,
    regenerate,
    revoke_with_descendants,
)
from ostiary.unit import Unit


def close_session(unit: Unit, login: LoginSession, *, actor_id: str) -> None:
    """End a session and revoke every authorization created through it (with their
    descendants); the row stays, marked ended, until the purge's retention has passed."""
    now = unit.now()
    revoked = revoke_with_descendants(unit.session, Authorization.session_id == login.id, now=now)
    login.ended_at = now
    unit.record(
        "session:destroy",
        actor_id=actor_id,
        target_type="session",
        target_id=login.id,
        details={"authorizations_revoked": revoked},
    )


def close_other_sessions(unit: Unit, account_id: str, keep_session_id: str) -> int:
    """End every live session of the account but ``keep_session_id`` (and the authorizations
    made through them); how many ended."""
    others = unit.session.scalars(
        live_sessions_of(account_id).where(LoginSession.id != keep_session_id)
    ).all()
    for login in others:
        close_session(unit, login, actor_id=account_id)
    return len(others)


def change_password(
    unit: Unit,
    account: Account,
    *,
    new_hash: str,
    keep_session_id: str | None,
    action: str = "account:password:change",
    details: dict[str, object] | None = None,
) -> IssuedAuthorization:
    """Replace the password (the caller proved the current one and hashed the new one).

    As on Heroku, the API key expires with the old password: it is regenerated, and so are the
    tokens made with it. Every session but ``keep_session_id`` ends, with the tokens made
    through it. Answers the new API key, to be shown once. A reset records ``action``
    ``account:password:reset`` with ``details`` saying how (``accounts.recovery``).
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
        action,
        actor_id=account.id,
        target_id=account.id,
        details={**(details or {}), "sessions_ended": len(others), "api_key_regenerated": True},
    )
    return issued


def create_account(
    unit: Unit,
    *,
    email: str,
    password_hash: str,
    name: str | None = None,
    verified: bool = False,
) -> NewAccount:
    """Create an account with its password's argon2id hash, and its API key (``verified``: an
    administrator's account, whose address needs no proof)."""
    account = add_account(
        unit, email=email, password_hash=password_hash, name=name, verified=verified
    )
    return NewAccount(account=account, api_key=create_api_key(unit, account))


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


def delete_client(unit: Unit, client: OAuthClient, *, actor_id: str) -> None:
    """Delete a client and every authorization granted to it.

    This is deletion, not revocation: the foreign keys cascade from the client to its
    authorizations, their tokens and their descendants. The event counts the live ones.
    """
    revoked = unit.session.scalar(
        select(func.count()).where(
            Authorization.client_id == client.id, Authorization.revoked_at.is_(None)
        )
    )
    unit.session.delete(client)
    unit.record(
        "oauth:client:destroy",
        actor_id=actor_id,
        target_type="client",
        target_id=client.id,
        details={"authorizations_revoked": revoked},
    )
