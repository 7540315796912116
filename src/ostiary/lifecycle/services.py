"""The lifecycle job (registered in ``periodic.default_jobs``): expiry warnings, expiry
notices, and the idle revocation with its warning.

Every run looks at every credential that is due, batch by batch (``lifecycle.queries``), each
batch in a transaction of its own. A notice is an alert of a lifecycle rule whose ``occasion``
makes it distinct (``alerts.rules.finding_of``): raising it again, at the next run or in
another worker at the same moment, writes nothing, so each warning goes out once by mail and
webhook (the alerts' delivery). The idle revocation re-checks the idleness in its UPDATE, so a
credential used while the job ran is not revoked.

Each account's stricter policy in force (``policies.queries.policy_in_force``) is honoured by a
second pass over only the accounts whose policy row holds the setting: a token cut short by a
tightened maximum lifetime is warned of its effective expiry, the API key of the account's
maximum age, and idle tokens are revoked by the account's idle limit.

The API key is warned before ``OSTIARY_API_KEY_MAX_AGE`` ends it, but never revoked for
idleness: Heroku keeps an account's API key until it is regenerated, and scripts that use it
once a year (a yearly report, a break-glass deploy) must not find it gone.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import UTC, datetime, timedelta

from sqlalchemy import ColumnElement, and_, func, or_
from sqlalchemy.orm import InstrumentedAttribute, Session

from ostiary.alerts.records import Anomaly
from ostiary.alerts.services import raise_alerts
from ostiary.config import Settings
from ostiary.db import Database
from ostiary.events import SYSTEM, record_event
from ostiary.lifecycle.queries import (
    BATCH,
    AccountCredential,
    Candidate,
    Cursor,
    accounts_with,
    any_outliving,
    api_keys_created_before,
    credentials_of_account,
    current_api_key,
    expiring_before,
    idle_since_before,
    unused_since_before,
)
from ostiary.lifecycle.rules import Notice, expiry_notice, idle_notice, idle_since
from ostiary.policies.models import AccountTokenPolicy
from ostiary.policies.queries import policy_in_force
from ostiary.policies.records import TokenPolicy
from ostiary.policies.rules import effective_expiry
from ostiary.tokens.models import Authorization, AuthorizationKind
from ostiary.tokens.policy import cap_tokens
from ostiary.tokens.services import revoke_with_descendants
from ostiary.unit import TokenLifetimes, lifetimes_of

logger = logging.getLogger("ostiary.lifecycle")

IDLE_REVOKE_ACTION = "token:authorization:idle-revoke"
# Expired credentials stay live rows until the purge: only those expired this recently are
# looked at (the "expired" notice of one goes out at the first run after its expiry).
EXPIRED_LOOKBACK = timedelta(days=7)
# The server maximum lifetimes this process has applied to the stored tokens.
_SERVER_CAPS_APPLIED: set[int] = set()


@dataclass(slots=True)
class LifecycleOutcome:
    """What one run looked at and did (for tests and logs)."""

    looked_at: int = 0
    notices: dict[str, int] = field(default_factory=dict)
    revoked: list[str] = field(default_factory=list)

    def count(self, rule: str) -> None:
        """Count one notice of ``rule``."""
        self.notices[rule] = self.notices.get(rule, 0) + 1


Batch = Callable[[Session, Cursor], list[Candidate]]


def _walk(
    database: Database,
    batch: Batch,
    handle: Callable[[Session, Candidate], None],
    cursor: Cursor = None,
) -> int:
    """Every candidate of ``batch`` after ``cursor``, page after page, each page in its own
    transaction."""
    seen = 0
    while True:
        with database.unit_of_work(write=True) as session:
            page = batch(session, cursor)
            for candidate in page:
                handle(session, candidate)
        seen += len(page)
        if len(page) < BATCH:
            return seen
        cursor = (page[-1].at, page[-1].authorization_id)


def _anomaly(candidate: Candidate, notice: Notice, now: datetime) -> Anomaly:
    return Anomaly(
        rule=notice.rule,  # type: ignore[arg-type]  # one of LIFECYCLE_RULES (lifecycle.rules)
        account_id=candidate.account_id,
        authorization_id=candidate.authorization_id,
        observed_at=now,
        details={"occasion": notice.occasion, **notice.facts},
    )


def _expiry(
    session: Session,
    candidate: Candidate,
    expires_at: datetime,
    now: datetime,
    thresholds: Sequence[int],
    outcome: LifecycleOutcome,
) -> None:
    """Raise the expiry warning or notice due for one credential expiring at ``expires_at``."""
    notice = expiry_notice(expires_at, now, thresholds)
    if notice is not None:
        raise_alerts(session, [_anomaly(candidate, notice, now)])
        outcome.count(notice.rule)


def warn_expiries(
    database: Database,
    thresholds: Sequence[int],
    api_key_max_age: int | None = None,
    now: datetime | None = None,
    lifetimes: TokenLifetimes | None = None,
) -> LifecycleOutcome:
    """Raise the expiry warnings and notices due at ``now``: for authorizations by their own
    expiry, and for API keys by ``api_key_max_age`` when set.

    With the server's ``lifetimes``, a credential its account's own policy ends sooner is left
    to :func:`warn_policy_expiries`, which warns it of that earlier end: its owner is not told
    of a later expiry it will never reach."""
    now = now or datetime.now(UTC)
    outcome = LifecycleOutcome()
    horizon = now + timedelta(seconds=max(thresholds, default=0))

    def expiry(session: Session, candidate: Candidate, expires_at: datetime) -> None:
        if lifetimes is not None and _ended_sooner(session, lifetimes, candidate):
            return
        _expiry(session, candidate, expires_at, now, thresholds, outcome)

    outcome.looked_at += _walk(
        database,
        lambda session, cursor: expiring_before(session, horizon, cursor),
        lambda session, candidate: expiry(session, candidate, candidate.at),
        cursor=(now - EXPIRED_LOOKBACK, ""),
    )
    if api_key_max_age is not None:
        age = timedelta(seconds=api_key_max_age)
        outcome.looked_at += _walk(
            database,
            lambda session, cursor: api_keys_created_before(session, horizon - age, cursor),
            lambda session, candidate: expiry(session, candidate, candidate.at + age),
            cursor=(now - EXPIRED_LOOKBACK - age, ""),
        )
    return outcome


def _ended_sooner(session: Session, lifetimes: TokenLifetimes, candidate: Candidate) -> bool:
    """Whether the account's own policy ends the credential before the server-wide walk's
    time: the API key by a stricter maximum age, a token made before the policy tightened by
    the maximum lifetime counted from the change. Read only for credentials that are due."""
    policy = policy_in_force(session, lifetimes, candidate.account_id)
    if candidate.kind == AuthorizationKind.API_KEY:
        return policy.source("api_key_max_age") == "account"
    limit, tightened_at = policy.settings.max_lifetime, policy.tightened_at
    if limit is None or tightened_at is None:
        return False
    if tightened_at + timedelta(seconds=limit) >= candidate.at:
        return False  # no cap counted from the change comes before its own expiry
    row = session.get(Authorization, candidate.authorization_id)
    if row is None:
        return False
    ends = effective_expiry(row.expires_at, row.created_at, limit, tightened_at)
    return ends is not None and ends < candidate.at


def revoke_idle(
    database: Database, revoke_after: int, warn_before: int | None, now: datetime | None = None
) -> LifecycleOutcome:
    """Warn the credentials (not API keys) whose idle revocation is ``warn_before`` away, and
    revoke those unused for ``revoke_after`` seconds, with their descendants: an event
    records each, and an "idle-revoked" notice tells the owner."""
    now = now or datetime.now(UTC)
    outcome = LifecycleOutcome()
    warn = warn_before or 0
    horizon = now - timedelta(seconds=max(0, revoke_after - warn))

    def handle(session: Session, candidate: Candidate) -> None:
        _idle(session, candidate, now, revoke_after, warn_before, outcome)

    outcome.looked_at += _walk(
        database, lambda session, cursor: idle_since_before(session, horizon, now, cursor), handle
    )
    outcome.looked_at += _walk(
        database, lambda session, cursor: unused_since_before(session, horizon, now, cursor), handle
    )
    return outcome


def _idle(
    session: Session,
    candidate: Candidate,
    now: datetime,
    revoke_after: int,
    warn_before: int | None,
    outcome: LifecycleOutcome,
) -> None:
    """Warn or revoke one credential idle since ``candidate.at``, whichever is due."""
    notice = idle_notice(candidate.at, now, revoke_after, warn_before or 0)
    if notice is None:
        return
    if notice.rule == "idle-revoked" and not _revoke(session, candidate, revoke_after, now):
        return
    if notice.rule == "idle-revocation" and warn_before is None:
        return
    raise_alerts(session, [_anomaly(candidate, notice, now)])
    outcome.count(notice.rule)
    if notice.rule == "idle-revoked":
        outcome.revoked.append(candidate.authorization_id)


def _revoke(session: Session, candidate: Candidate, revoke_after: int, now: datetime) -> bool:
    """Revoke an idle credential if it is still idle (a request may have used it meanwhile),
    recording the event; whether it was."""
    cutoff = now - timedelta(seconds=revoke_after)
    revoked = revoke_with_descendants(
        session,
        Authorization.id == candidate.authorization_id,
        func.coalesce(Authorization.last_used_at, Authorization.created_at) <= cutoff,
        now=now.replace(microsecond=0),
    )
    if not revoked:
        return False
    record_event(
        session,
        SYSTEM,
        IDLE_REVOKE_ACTION,
        actor_id=candidate.account_id,
        target_type="authorization",
        target_id=candidate.authorization_id,
        details={
            "kind": candidate.kind,
            "idle_since": candidate.at.isoformat(),
            "revoke_after_seconds": revoke_after,
        },
    )
    return True


def _each_account(
    database: Database, setting: ColumnElement[bool], handle: Callable[[str], int]
) -> int:
    """``handle`` each account whose own policy row matches ``setting``, reading the accounts
    page after page; what the handlers looked at."""
    seen, after = 0, ""
    while True:
        with database.unit_of_work(write=False) as session:
            accounts = accounts_with(session, setting, after, limit=BATCH)
        for account_id in accounts:
            seen += handle(account_id)
        if len(accounts) < BATCH:
            return seen
        after = accounts[-1]


def _walk_account(
    database: Database,
    account_id: str,
    condition: Sequence[ColumnElement[bool]],
    handle: Callable[[Session, AccountCredential], None],
) -> int:
    """Every live credential of the account (not its API key) matching ``condition``, page
    after page, each page in its own transaction."""
    seen, after = 0, ""
    while True:
        with database.unit_of_work(write=True) as session:
            page = credentials_of_account(session, account_id, *condition, after=after, limit=BATCH)
            for credential in page:
                handle(session, credential)
        seen += len(page)
        if len(page) < BATCH:
            return seen
        after = page[-1].authorization_id


def _policy(database: Database, lifetimes: TokenLifetimes, account_id: str) -> TokenPolicy:
    with database.unit_of_work(write=False) as session:
        return policy_in_force(session, lifetimes, account_id)


def _stricter(column: InstrumentedAttribute[int | None], server: int | None) -> ColumnElement[bool]:
    """The account set ``column`` stricter than the server's ``server`` (None: no limit)."""
    if server is None:
        return column.is_not(None)
    return and_(column.is_not(None), column < server)


def warn_policy_expiries(
    database: Database,
    lifetimes: TokenLifetimes,
    thresholds: Sequence[int],
    now: datetime | None = None,
) -> LifecycleOutcome:
    """The expiry warnings and notices that only an account's own policy makes due: a token
    made before the account's policy tightened expires at ``max(created_at, tightened_at) +
    max_lifetime`` (``policies.rules.effective_expiry``, as the authenticator refuses it), and
    the API key at the account's stricter ``api_key_max_age``. Only accounts with such a policy
    row are read; what expires by its own expiry or the server's age is the server-wide walk's
    (:func:`warn_expiries`), and the occasion, keyed on the effective expiry, makes each once."""
    now = now or datetime.now(UTC)
    outcome = LifecycleOutcome()
    horizon = now + timedelta(seconds=max(thresholds, default=0))
    oldest = now - EXPIRED_LOOKBACK
    capped: ColumnElement[bool] = AccountTokenPolicy.tightened_at.is_not(None)
    if lifetimes.max_lifetime is None:
        capped = and_(capped, AccountTokenPolicy.max_lifetime.is_not(None))
    aged = _stricter(AccountTokenPolicy.api_key_max_age, lifetimes.api_key_max_age)

    def account(account_id: str) -> int:
        policy = _policy(database, lifetimes, account_id)
        return _cut_short(account_id, policy) + _api_key(account_id, policy)

    def _cut_short(account_id: str, policy: TokenPolicy) -> int:
        max_lifetime, tightened_at = policy.settings.max_lifetime, policy.tightened_at
        if max_lifetime is None or tightened_at is None:
            return 0
        limit = timedelta(seconds=max_lifetime)
        if tightened_at + limit > horizon:
            return 0  # no token of the account ends soon by the policy
        # Only tokens whose cap, max(created_at, tightened_at) + limit, is within the horizon
        # and not long past (or whose own expiry is long past) are read.
        condition = [
            Authorization.created_at <= horizon - limit,
            or_(Authorization.expires_at.is_(None), Authorization.expires_at > oldest),
        ]
        if tightened_at + limit < oldest:
            condition.append(Authorization.created_at >= oldest - limit)

        def handle(session: Session, credential: AccountCredential) -> None:
            ends = effective_expiry(
                credential.expires_at, credential.created_at, max_lifetime, tightened_at
            )
            if ends is None or ends == credential.expires_at or ends < oldest:
                return  # its own expiry: the server-wide walk warns of it
            candidate = Candidate(
                credential.authorization_id, credential.account_id, credential.kind, ends
            )
            _expiry(session, candidate, ends, now, thresholds, outcome)

        return _walk_account(database, account_id, condition, handle)

    def _api_key(account_id: str, policy: TokenPolicy) -> int:
        age = policy.settings.api_key_max_age
        if age is None or policy.source("api_key_max_age") != "account":
            return 0
        with database.unit_of_work(write=True) as session:
            key = current_api_key(session, account_id)
            if key is None:
                return 0
            ends = key.at + timedelta(seconds=age)
            if oldest <= ends <= horizon:
                _expiry(session, key, ends, now, thresholds, outcome)
        return 1

    outcome.looked_at += _each_account(database, or_(capped, aged), account)
    return outcome


def revoke_policy_idle(
    database: Database,
    lifetimes: TokenLifetimes,
    warn_before: int | None,
    now: datetime | None = None,
) -> LifecycleOutcome:
    """The idle revocation, with its warning, by each account's own stricter
    ``idle_revoke_after``. A credential's idleness counts from its last use (else its creation)
    or, if later, the account's ``tightened_at``: a stricter policy ends old idle tokens at its
    limit counted from the change, after the warning, never at once. Only accounts with such a
    policy row are read; the server's limit stays the server-wide walk's (:func:`revoke_idle`),
    and whichever ends a credential first does."""
    now = now or datetime.now(UTC)
    outcome = LifecycleOutcome()
    warn = warn_before or 0

    def account(account_id: str) -> int:
        policy = _policy(database, lifetimes, account_id)
        revoke_after, tightened_at = policy.settings.idle_revoke_after, policy.tightened_at
        if revoke_after is None or policy.source("idle_revoke_after") != "account":
            return 0
        due_from = now - timedelta(seconds=max(0, revoke_after - warn))
        if tightened_at is not None and tightened_at > due_from:
            return 0  # nothing of the account is idle long enough since the change
        condition = [
            func.coalesce(Authorization.last_used_at, Authorization.created_at) <= due_from,
            or_(Authorization.expires_at.is_(None), Authorization.expires_at > now),
        ]

        def handle(session: Session, credential: AccountCredential) -> None:
            since = idle_since(credential.last_used_at, credential.created_at)
            if tightened_at is not None:
                since = max(since, tightened_at)
            candidate = Candidate(
                credential.authorization_id, credential.account_id, credential.kind, since
            )
            _idle(session, candidate, now, revoke_after, warn_before, outcome)

        return _walk_account(database, account_id, condition, handle)

    stricter = _stricter(AccountTokenPolicy.idle_revoke_after, lifetimes.idle_revoke_after)
    outcome.looked_at += _each_account(database, stricter, account)
    return outcome


def _merge(outcome: LifecycleOutcome, more: LifecycleOutcome) -> None:
    outcome.looked_at += more.looked_at
    outcome.revoked.extend(more.revoked)
    for rule, count in more.notices.items():
        outcome.notices[rule] = outcome.notices.get(rule, 0) + count


def cap_server_lifetime(database: Database, max_lifetime: int, now: datetime | None = None) -> int:
    """Give every live token that would outlive now plus the server's maximum lifetime that
    deadline (``tokens.policy.cap_tokens``): tokens made before the setting was shortened end at
    the limit counted from the change, on every path that reads their expiry; how many. After
    the job runs it once per process (the settings change only with a restart)."""
    cap = (now or datetime.now(UTC)) + timedelta(seconds=max_lifetime)
    with database.unit_of_work(write=False) as session:
        if not any_outliving(session, cap):  # the usual run: no write transaction at all
            return 0
    with database.unit_of_work(write=True) as session:
        capped = cap_tokens(session, cap)
    logger.info("capped %d tokens at the server's maximum lifetime", capped)
    return capped


def run_lifecycle(database: Database, settings: Settings) -> LifecycleOutcome:
    """The periodic job: expiry warnings and notices, then the idle revocation, each by the
    server's settings and by the stricter policies of the accounts that have one."""
    lifetimes = lifetimes_of(settings)
    limit = settings.token_max_lifetime
    # Settings change only with a restart, so once per process is enough: after it, no token
    # outlives the limit (each is made under it).
    if limit is not None and limit not in _SERVER_CAPS_APPLIED:
        cap_server_lifetime(database, limit)
        _SERVER_CAPS_APPLIED.add(limit)
    outcome = warn_expiries(
        database, settings.expiry_warnings, settings.api_key_max_age, lifetimes=lifetimes
    )
    _merge(outcome, warn_policy_expiries(database, lifetimes, settings.expiry_warnings))
    # The accounts' stricter limits first: what they revoke, the server's walk no longer warns.
    _merge(outcome, revoke_policy_idle(database, lifetimes, settings.idle_revocation_warning))
    if settings.token_idle_revoke_after is not None:
        _merge(
            outcome,
            revoke_idle(
                database, settings.token_idle_revoke_after, settings.idle_revocation_warning
            ),
        )
    return outcome
