"""Device authorizations (RFC 8628) and the heroku CLI's browser login, which has the same
shape: a polling secret kept by the device, a code the user approves in a browser, tokens
minted at the poll that follows. Services never commit."""

from __future__ import annotations

import enum
import secrets
from dataclasses import dataclass
from datetime import timedelta

from sqlalchemy import select

from ostiary.clock import utcnow
from ostiary.errors import NotFound
from ostiary.oauth2 import rfc8628
from ostiary.oauth2.protocols import PollOutcome
from ostiary.oauth2.rfc8628 import PollState
from ostiary.policies.services import lifetime_for
from ostiary.security.tokens import TokenKind, mint_token
from ostiary.tokens.models import DeviceAuthorization
from ostiary.tokens.records import IssuedAuthorization, NewAuthorization
from ostiary.tokens.services import create_authorization
from ostiary.unit import Unit


class DeviceKind(enum.StrEnum):
    """What started the device authorization."""

    DEVICE = "device"
    HEROKU_CLI = "heroku_cli"


# How long an unapproved request waits for its user. A heroku CLI login is approved in the
# browser the CLI itself opens, so a few minutes are plenty, and a link sent to someone else (to
# phish their consent) goes stale quickly. A device's user has to walk to another screen and
# type a code, so RFC 8628 devices keep the common ten minutes (section 3.2, expires_in).
LIFETIMES = {DeviceKind.DEVICE: timedelta(minutes=10), DeviceKind.HEROKU_CLI: timedelta(minutes=5)}


@dataclass(frozen=True, slots=True)
class StartedDevice:
    """A new device authorization and the codes to show, once."""

    row: DeviceAuthorization
    device_code: str
    user_code: str


def start(
    unit: Unit,
    *,
    kind: DeviceKind,
    scopes: list[str],
    client_id: str | None = None,
    description: str = "",
    high_entropy_user_code: bool = False,
) -> StartedDevice:
    """Begin a device authorization. The heroku CLI's variant puts its "user code" in a URL, so
    it gets a high-entropy one instead of a typeable one."""
    device_code = mint_token(TokenKind.GRANT_CODE)
    now = utcnow()
    user_code = secrets.token_urlsafe(24) if high_entropy_user_code else rfc8628.new_user_code()
    row = DeviceAuthorization(
        kind=kind,
        device_code_hash=unit.hasher.hash(device_code),
        user_code_hash=unit.hasher.hash(
            user_code if high_entropy_user_code else rfc8628.normalize_user_code(user_code)
        ),
        client_id=client_id,
        scopes=scopes,
        description=description,
        interval=rfc8628.DEFAULT_INTERVAL,
        requester_ip=unit.context.ip,
        created_at=now,
        expires_at=now + LIFETIMES[kind],
    )
    unit.session.add(row)
    unit.session.flush()
    unit.record(
        f"oauth:{kind}:start",
        actor_id=None,
        target_type="device",
        target_id=row.id,
        details={"client_id": row.client_id},
    )
    return StartedDevice(row, device_code, user_code)


def find_pending(
    unit: Unit, user_code: str, *, kind: DeviceKind, raw: bool = False
) -> DeviceAuthorization:
    """The pending, unexpired device authorization a user code names."""
    code = user_code if raw else rfc8628.normalize_user_code(user_code)
    row = unit.session.scalar(
        select(DeviceAuthorization).where(
            DeviceAuthorization.user_code_hash == unit.hasher.hash(code),
            DeviceAuthorization.kind == kind,
        )
    )
    if row is None or row.status != "pending" or row.expires_at <= utcnow():
        raise NotFound("device", "That code is unknown or has expired.")
    return row


def decide(
    unit: Unit,
    row: DeviceAuthorization,
    *,
    account_id: str,
    allow: bool,
) -> None:
    """The signed-in user approves or denies the device."""
    row.status = "approved" if allow else "denied"
    row.account_id = account_id
    unit.record(
        f"oauth:{row.kind}:{'approve' if allow else 'deny'}",
        actor_id=account_id,
        target_type="device",
        target_id=row.id,
        details={"client_id": row.client_id},
    )


def find_by_device_code(
    unit: Unit, device_code: str, *, kind: DeviceKind
) -> DeviceAuthorization | None:
    """The device authorization a device code names, locked for this transaction."""
    return unit.session.scalar(
        select(DeviceAuthorization)
        .where(
            DeviceAuthorization.device_code_hash == unit.hasher.hash(device_code),
            DeviceAuthorization.kind == kind,
        )
        .with_for_update(of=DeviceAuthorization)
    )


def apply_poll(row: DeviceAuthorization, outcome: PollOutcome) -> None:
    """Keep what a poll decided: the status (an approval is consumed), the interval, the time."""
    row.status = outcome.status
    row.interval = outcome.interval
    row.last_polled_at = outcome.last_polled_at


def poll(row: DeviceAuthorization, *, enforce_interval: bool = True) -> PollState:
    """Decide a poll by RFC 8628's rules (``oauth2.rfc8628.decide_poll``) and keep its outcome."""
    outcome = rfc8628.decide_poll(row, utcnow(), enforce_interval=enforce_interval)
    apply_poll(row, outcome)
    return PollState(outcome.state)


HEROKU_CLI_TOKEN_LIFETIME = 365 * 24 * 3600


def complete_heroku_cli_login(unit: Unit, row: DeviceAuthorization) -> IssuedAuthorization:
    """The approved heroku CLI login's token: a new global authorization with the CLI's
    description, valid one year or as long as the account's token policy allows."""
    assert row.account_id is not None
    lifetime = lifetime_for(unit, row.account_id, ["global"], HEROKU_CLI_TOKEN_LIFETIME, cap=True)
    return create_authorization(
        unit,
        NewAuthorization(
            account_id=row.account_id,
            scopes=["global"],
            description=row.description,
            expires_in=lifetime,
            creator_scopes=frozenset({"global"}),
        ),
    )
