"""Authenticating a request by its bearer token: the hot path of every API call.

One indexed SELECT (token hash -> authorization -> account) per request, run as a
:class:`~ostiary.prepared.PreparedQuery`. Nothing is cached, so a revoked or regenerated token
fails on the very next request in every worker. ``last_used_at`` is written at most once a
minute per authorization so that reads do not turn into writes.

Two alert rules are seen here, and told to the callback the application injects (``alerts``
sits above ``tokens``): the first use after ``dormant_after`` unused (found when the touch is
due, and raised in the touch's transaction), and a revoked token, or one of an expired
authorization, presented again (raised in a small transaction of its own, at most once per
credential per day per process: a flood of dead tokens is unauthenticated work and must stay
cheap). An expired access token of a live authorization is refused without an alert: that is
an OAuth client's refresh cycle. A dead credential's alert never suspends (``alerts``): the
live authorization an old token belonged to is not the presenter's to stop. A credential
suspended by its owner's alert policy is refused, read in the same lookup, and so is every
credential of an account an administrator disabled (``accounts.disabled_at``).

The token policy is read in the same lookup too (the account's own policy row, joined): the API
key is refused past ``OSTIARY_API_KEY_MAX_AGE`` (or the account's stricter age) until
regenerated, and a token made before the account's policy tightened expires at the maximum
lifetime counted from the change (``policies.rules``).
"""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import dataclass, field
from datetime import UTC, date, datetime, timedelta
from typing import Literal, NoReturn

from sqlalchemy import bindparam, update
from sqlalchemy.exc import SQLAlchemyError
from sqlalchemy.orm import Session

from ostiary.accounts.errors import DISABLED_MESSAGE
from ostiary.accounts.models import Account
from ostiary.accounts.records import AccountSnapshot
from ostiary.clock import utcnow
from ostiary.db import Database, table_of
from ostiary.durations import describe_duration
from ostiary.errors import Audit, Unauthorized
from ostiary.events import RequestContext
from ostiary.policies.models import AccountTokenPolicy
from ostiary.policies.records import PolicySettings
from ostiary.policies.rules import api_key_expiry, effective_expiry
from ostiary.prepared import ReadModel
from ostiary.second_factors.queries import has_second_factor
from ostiary.security.hashing import SecretHasher
from ostiary.security.tokens import token_kind
from ostiary.tokens.models import AccessToken, Authorization, AuthorizationKind
from ostiary.tokens.records import Principal
from ostiary.tokens.rotation import TOUCH_RETIRING

LAST_USED_RESOLUTION = timedelta(minutes=1)
DEFAULT_DORMANT_AFTER = timedelta(days=30)
# Dead credentials already raised today by this process: forgotten wholesale when this full.
_DEAD_REMEMBERED = 10_000
SUSPENDED_MESSAGE = (
    "This credential was suspended after a security alert (alert {alert}). Its owner can "
    "reinstate it on the dashboard's Alerts page or with "
    "`POST /oauth/authorizations/{authorization}/actions/reinstate`, or revoke it."
)
API_KEY_TOO_OLD_MESSAGE = (
    "This API key is older than the longest age the token policy allows ({limit}): regenerate "
    "it on the dashboard's API key page, or with `ostiary authorizations:rotate ~` "
    "(`POST /oauth/authorizations/~/actions/regenerate-tokens`) using another token."
)

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class AuthenticationFinding:
    """A rule seen while authenticating, for the alerts: the credential, its owner, the facts."""

    rule: Literal["dormant-use", "dead-credential"]
    account_id: str
    authorization_id: str
    observed_at: datetime
    context: RequestContext
    details: dict[str, object] = field(default_factory=dict)


AuthenticationAlarm = Callable[[Session, AuthenticationFinding], str | None]
"""Raises the alert of a finding in the given transaction; the alert's id when it suspended the
credential, else None (``alerts.services.alert_at_authentication``)."""


@dataclass(frozen=True, slots=True)
class PresentedToken:
    """A presented access token as the check reads it: its state, its authorization's, and the
    account it acts for."""

    access_token_id: str
    token_expires_at: datetime | None
    token_revoked: bool
    token_retiring: bool
    token_last_used_at: datetime | None
    token_last_used_ip: str | None
    authorization_id: str
    authorization_kind: str
    scopes: list[str]
    authorization_expires_at: datetime | None
    authorization_revoked: bool
    last_used_at: datetime | None
    authorization_created_at: datetime
    suspended_at: datetime | None
    suspended_by: str | None
    session_id: str | None
    client_id: str | None
    account: AccountSnapshot
    token_created_at: datetime
    policy_max_lifetime: int | None
    policy_api_key_max_age: int | None
    policy_tightened_at: datetime | None


_tokens = table_of(AccessToken)
_authorizations = table_of(Authorization)
_accounts = table_of(Account)
_policies = table_of(AccountTokenPolicy)

_PRESENTED = ReadModel(
    PresentedToken,
    access_token_id=_tokens.c.id,
    token_expires_at=_tokens.c.expires_at,
    token_revoked=_tokens.c.revoked_at.is_not(None),
    token_retiring=_tokens.c.retiring_at.is_not(None),
    token_last_used_at=_tokens.c.last_used_at,
    token_last_used_ip=_tokens.c.last_used_ip,
    authorization_id=_authorizations.c.id,
    authorization_kind=_authorizations.c.kind,
    scopes=_authorizations.c.scopes,
    authorization_expires_at=_authorizations.c.expires_at,
    authorization_revoked=_authorizations.c.revoked_at.is_not(None),
    last_used_at=_authorizations.c.last_used_at,
    authorization_created_at=_authorizations.c.created_at,
    suspended_at=_authorizations.c.suspended_at,
    suspended_by=_authorizations.c.suspended_by,
    session_id=_authorizations.c.session_id,
    client_id=_authorizations.c.client_id,
    account=ReadModel(
        AccountSnapshot,
        _accounts,
        two_factor_authentication=has_second_factor(_accounts.c.id),
    ),
    token_created_at=_tokens.c.created_at,
    policy_max_lifetime=_policies.c.max_lifetime,
    policy_api_key_max_age=_policies.c.api_key_max_age,
    policy_tightened_at=_policies.c.tightened_at,
)

_LOOKUP = (
    _PRESENTED.select()
    .join_from(_tokens, _authorizations, _tokens.c.authorization_id == _authorizations.c.id)
    .join(_accounts, _authorizations.c.account_id == _accounts.c.id)
    .outerjoin(_policies, _policies.c.account_id == _accounts.c.id)
    .where(_tokens.c.token_hash == bindparam("token_hash"))
)

_TOUCH = (
    update(Authorization)
    .where(Authorization.id == bindparam("authorization_id"))
    .values(last_used_at=bindparam("now"), last_used_ip=bindparam("ip"))
)


def _earliest(*ends: datetime | None) -> datetime | None:
    """The earliest of the known ends; None when nothing ends it."""
    known = [end for end in ends if end is not None]
    return min(known) if known else None


class TokenAuthenticator:
    """Turns a bearer token into a :class:`Principal`, or raises :class:`Unauthorized`."""

    def __init__(
        self,
        database: Database,
        hasher: SecretHasher,
        *,
        alarm: AuthenticationAlarm | None = None,
        dormant_after: timedelta = DEFAULT_DORMANT_AFTER,
        policy: PolicySettings | None = None,
    ) -> None:
        self._database = database
        self._hasher = hasher
        self._lookup = database.prepared(_LOOKUP)
        self._alarm = alarm
        self._dormant_after = dormant_after
        self._policy = policy or PolicySettings()
        self._dead_raised: set[tuple[str, date]] = set()

    def authenticate(self, token: str, context: RequestContext) -> Principal:
        """The principal for a live token; Unauthorized (and an event) for anything else."""
        now = datetime.now(UTC)  # not utcnow(): that drops the microseconds
        if token_kind(token) is None:
            self._refuse("malformed token")
        found = self._lookup.first_as(_PRESENTED, token_hash=self._hasher.hash(token))
        if found is None:
            self._refuse("unknown token")
        if found.token_revoked or found.authorization_revoked:
            self._dead(found, "revoked token", now, context)
        expires_at = self._expiry(found)
        if expires_at is not None and expires_at <= now:
            if found.authorization_kind == AuthorizationKind.API_KEY:
                self._refuse_old_api_key(found)
            self._dead(found, "expired token", now, context)
        if found.token_expires_at is not None and found.token_expires_at <= now:
            # The authorization lives: an OAuth access token expiring while its grant is
            # refreshed is the normal cycle, not a leak, and raises nothing.
            self._refuse("expired token", found.authorization_id)
        if found.account.disabled_at is not None:
            self._refuse_disabled(found.authorization_id)
        if found.suspended_at is not None:
            self._refuse_suspended(found.authorization_id, found.suspended_by)
        if found.token_retiring:
            self._touch_retiring(found, now, context)
        last_used = found.last_used_at
        if last_used is None or now - last_used >= LAST_USED_RESOLUTION:
            suspended_by = self._touch(found, now, context)
            if suspended_by is not None:
                self._refuse_suspended(found.authorization_id, suspended_by)
        return Principal(
            account=found.account,
            authorization_id=found.authorization_id,
            authorization_kind=found.authorization_kind,
            scopes=frozenset(found.scopes),
            session_id=found.session_id,
            client_id=found.client_id,
            access_token_id=found.access_token_id,
            expires_at=_earliest(found.token_expires_at, expires_at),
        )

    def _expiry(self, found: PresentedToken) -> datetime | None:
        """When the credential stops working under the token policy in force: the API key at
        its maximum age (counted from its current token), anything else at its own expiry or
        the account's tightened maximum lifetime (``policies.rules``)."""
        if found.authorization_kind == AuthorizationKind.API_KEY:
            return api_key_expiry(found.token_created_at, self._max_age(found))
        limit = found.policy_max_lifetime
        if self._policy.max_lifetime is not None:
            limit = min(limit or self._policy.max_lifetime, self._policy.max_lifetime)
        return effective_expiry(
            found.authorization_expires_at,
            found.authorization_created_at,
            limit,
            found.policy_tightened_at,
        )

    def _max_age(self, found: PresentedToken) -> int | None:
        """The API key's maximum age in force: the server's or the account's, the shorter."""
        ages = [age for age in (self._policy.api_key_max_age, found.policy_api_key_max_age) if age]
        return min(ages) if ages else None

    def _refuse_old_api_key(self, found: PresentedToken) -> NoReturn:
        """401 saying the API key is past its maximum age and how to regenerate it."""
        limit = self._max_age(found) or 0
        raise Unauthorized(
            API_KEY_TOO_OLD_MESSAGE.format(limit=describe_duration(limit)),
            audit=Audit(
                "auth:failure",
                target_type="authorization",
                target_id=found.authorization_id,
                details={"reason": "api key too old"},
            ),
        )

    def _touch_retiring(
        self, found: PresentedToken, now: datetime, context: RequestContext
    ) -> None:
        """Write a retiring token's own last use (tokens.rotation): at once for a new address,
        else at most once a minute, so the owner sees who still uses the replaced token."""
        last = found.token_last_used_at
        same_address = found.token_last_used_ip == context.ip
        if last is not None and same_address and now - last < LAST_USED_RESOLUTION:
            return
        values = {"access_token_id": found.access_token_id, "now": utcnow(), "ip": context.ip}
        with self._database.write_engine.begin() as connection:
            connection.execute(TOUCH_RETIRING, values)

    def _touch(self, found: PresentedToken, now: datetime, context: RequestContext) -> str | None:
        """Write the last use; raise dormant-use with it when due. The alert's id when that
        suspended the credential."""
        values = {"authorization_id": found.authorization_id, "now": utcnow(), "ip": context.ip}
        since = found.last_used_at or found.authorization_created_at
        if self._alarm is None or now - since < self._dormant_after:
            with self._database.write_engine.begin() as connection:
                connection.execute(_TOUCH, values)
            return None
        finding = AuthenticationFinding(
            rule="dormant-use",
            account_id=found.account.id,
            authorization_id=found.authorization_id,
            observed_at=now,
            context=context,
            details={
                "last_used_at": found.last_used_at.isoformat() if found.last_used_at else None,
                "created_at": found.authorization_created_at.isoformat(),
                "days": (now - since).days,
                "address": context.ip,
                "user_agent": (context.user_agent or "")[:200] or None,
            },
        )
        with self._database.unit_of_work(write=True) as session:
            session.connection().execute(_TOUCH, values)
            return self._alarm(session, finding)

    def _dead(
        self, found: PresentedToken, reason: str, now: datetime, context: RequestContext
    ) -> NoReturn:
        """Refuse a revoked token or one of an expired authorization, raising dead-credential
        first (once a day)."""
        remembered = (found.authorization_id, now.date())
        if self._alarm is not None and remembered not in self._dead_raised:
            if len(self._dead_raised) >= _DEAD_REMEMBERED:
                self._dead_raised.clear()
            self._dead_raised.add(remembered)
            finding = AuthenticationFinding(
                rule="dead-credential",
                account_id=found.account.id,
                authorization_id=found.authorization_id,
                observed_at=now,
                context=context,
                details={
                    "reason": reason,
                    "address": context.ip,
                    "user_agent": (context.user_agent or "")[:200] or None,
                },
            )
            try:
                with self._database.unit_of_work(write=True) as session:
                    self._alarm(session, finding)
            except SQLAlchemyError:
                # The refusal is the answer that matters; the alert is tried again tomorrow,
                # or by another worker.
                logger.exception("could not raise the dead-credential alert")
        self._refuse(reason, found.authorization_id)

    @staticmethod
    def _refuse_disabled(authorization_id: str) -> NoReturn:
        """401: the account is disabled (read in the same lookup, so at once); its credentials
        work again when it is enabled."""
        raise Unauthorized(
            DISABLED_MESSAGE,
            audit=Audit(
                "auth:failure",
                target_type="authorization",
                target_id=authorization_id,
                details={"reason": "account disabled"},
            ),
        )

    @staticmethod
    def _refuse_suspended(authorization_id: str, alert_id: str | None) -> NoReturn:
        """401 naming the alert that suspended the credential and how to reinstate it."""
        raise Unauthorized(
            SUSPENDED_MESSAGE.format(
                alert=alert_id or "unrecorded", authorization=authorization_id
            ),
            audit=Audit(
                "auth:failure",
                target_type="authorization",
                target_id=authorization_id,
                details={"reason": "suspended credential"},
            ),
        )

    @staticmethod
    def _refuse(reason: str, authorization_id: str | None = None) -> NoReturn:
        raise Unauthorized(
            "Invalid credentials provided.",
            audit=Audit(
                "auth:failure",
                target_type="authorization" if authorization_id else None,
                target_id=authorization_id,
                details={"reason": reason},
            ),
        )
