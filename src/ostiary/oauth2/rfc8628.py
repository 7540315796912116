"""The device authorization grant (RFC 8628; rule R39).

``POST /oauth/device/code`` gives a high-entropy ``device_code`` and an 8-character
``user_code`` from an unambiguous alphabet, shown as ``XXXX-XXXX``. The user approves at
``/device``, which names the client. The device polls the token endpoint with
``grant_type=urn:ietf:params:oauth:grant-type:device_code`` and gets ``authorization_pending``,
``slow_down`` (interval +5 s, kept for later polls), ``access_denied``, ``expired_token``, or its
tokens, once.
"""

from __future__ import annotations

import enum
import re
import secrets
from collections.abc import Callable
from datetime import datetime, timedelta
from typing import Protocol

from ostiary.errors import InvalidParams
from ostiary.oauth2.errors import OAuthError, invalid_request
from ostiary.oauth2.protocols import Client, DeviceStore, PollOutcome, T

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"
# Section 6.1: no vowels (no words), no look-alikes; 20^8 is about 2^34.6 codes.
USER_CODE_ALPHABET = "BCDFGHJKLMNPQRSTVWXZ"
USER_CODE_LENGTH = 8
DEFAULT_INTERVAL = 5
SLOW_DOWN_STEP = 5


class PollState(enum.StrEnum):
    """What a poll finds (section 3.5)."""

    PENDING = "authorization_pending"
    SLOW_DOWN = "slow_down"
    DENIED = "access_denied"
    EXPIRED = "expired_token"
    APPROVED = "approved"


class PollError(OAuthError):
    """A poll's answer short of tokens; its bookkeeping (last poll, interval) is kept."""

    keeps_changes = True


def new_user_code() -> str:
    """A typeable user code (section 6.1)."""
    return "".join(secrets.choice(USER_CODE_ALPHABET) for _ in range(USER_CODE_LENGTH))


def normalize_user_code(text: str) -> str:
    """A user code as typed (any case, dashes, spaces) in its stored form (section 6.1)."""
    return re.sub(r"[^A-Z]", "", text.upper())


def display_user_code(code: str) -> str:
    """``XXXX-XXXX``."""
    return f"{code[:4]}-{code[4:]}"


class Pollable(Protocol):
    """The state of a device authorization a poll decides on."""

    @property
    def status(self) -> str:
        """``pending``, ``approved``, ``denied`` or ``consumed``."""
        ...

    @property
    def expires_at(self) -> datetime:
        """When the user's chance to approve ends."""
        ...

    @property
    def last_polled_at(self) -> datetime | None:
        """When the device last polled."""
        ...

    @property
    def interval(self) -> int:
        """Seconds the device must wait between polls."""
        ...


def decide_poll(device: Pollable, now: datetime, *, enforce_interval: bool = True) -> PollOutcome:
    """What a poll finds (section 3.5); a poll sooner than the interval slows the device down
    for good. An approved authorization is consumed by the poll that finds it."""
    if device.expires_at <= now or device.status == "consumed":
        state = PollState.EXPIRED
    elif device.status == "denied":
        state = PollState.DENIED
    elif device.status == "approved":
        return PollOutcome(PollState.APPROVED, "consumed", device.interval, device.last_polled_at)
    else:
        too_soon = (
            enforce_interval
            and device.last_polled_at is not None
            and now - device.last_polled_at < timedelta(seconds=device.interval)
        )
        if too_soon:
            return PollOutcome(
                PollState.SLOW_DOWN, device.status, device.interval + SLOW_DOWN_STEP, now
            )
        return PollOutcome(PollState.PENDING, device.status, device.interval, now)
    return PollOutcome(state, device.status, device.interval, device.last_polled_at)


def device_authorization(
    devices: DeviceStore[T],
    client: Client,
    form: dict[str, str],
    verification_uri: str,
    parse_scope: Callable[[str], list[str]],
) -> dict[str, object]:
    """Section 3.2: the codes and where the user should go."""
    try:
        scopes = parse_scope(form.get("scope", "global"))
    except InvalidParams as error:
        raise OAuthError("invalid_scope", error.message) from error
    started = devices.start_device(client, scopes)
    shown = display_user_code(started.user_code)
    return {
        "device_code": started.device_code,
        "user_code": shown,
        "verification_uri": verification_uri,
        "verification_uri_complete": f"{verification_uri}?user_code={shown}",
        "expires_in": started.expires_in,
        "interval": started.interval,
    }


_WAITING = {
    PollState.PENDING: "The user has not yet approved this device.",
    PollState.SLOW_DOWN: "Polling too fast; poll every {interval} seconds.",
    PollState.DENIED: "The user denied this device.",
    PollState.EXPIRED: "This device code has expired; start again.",
}


def grant(devices: DeviceStore[T], client: Client, form: dict[str, str], now: datetime) -> T:
    """Section 3.4: a poll."""
    device_code = form.get("device_code")
    if device_code is None:
        raise invalid_request("device_code is required.")
    device = devices.find_device(device_code)
    if device is None or device.client_id != client.id:
        raise OAuthError("invalid_grant", "Unknown device_code.")
    outcome = decide_poll(device, now)
    devices.record_poll(device, outcome)
    if outcome.state == PollState.APPROVED:
        return devices.issue_for_device(device, client)
    state = PollState(outcome.state)
    raise PollError(state.value, _WAITING[state].format(interval=outcome.interval))
