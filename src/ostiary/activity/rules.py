"""The activity log's decisions without storage: what a filter means, and how values given in a
query string are read (bad ones are 422 ``invalid_params`` naming the parameter)."""

from __future__ import annotations

import dataclasses
import re
from dataclasses import dataclass
from datetime import UTC, datetime

from ostiary.activity.records import LoggedEvent
from ostiary.errors import InvalidParams

# An action filter: a whole action (``token:api-key:regenerate``), or a prefix ending in ``*``
# (``token:*`` is every action under ``token:``; ``*`` alone is every action).
_ACTION = re.compile(r"^[a-z0-9:_-]{0,80}\*?$")
# RFC 3339: a date, ``T`` (or a space), a time with optional fraction, ``Z`` or an offset.
_RFC3339 = re.compile(
    r"^\d{4}-\d{2}-\d{2}[Tt ]\d{2}:\d{2}:\d{2}(\.\d{1,6})?([Zz]|[+-]\d{2}:\d{2})$"
)


@dataclass(frozen=True, slots=True)
class EventFilter:
    """Which of an account's events to list; None is "any"."""

    action: str | None = None
    authorization_id: str | None = None
    app: str | None = None
    since: datetime | None = None
    until: datetime | None = None

    @property
    def action_prefix(self) -> str | None:
        """The prefix of a ``prefix*`` action filter, else None."""
        if self.action is not None and self.action.endswith("*"):
            return self.action[:-1]
        return None


def parse_action(value: str | None) -> str | None:
    """An action filter as given, checked: letters, digits, ``:_-``, optionally a final ``*``."""
    if value is None or value == "":
        return None
    if not _ACTION.match(value):
        raise InvalidParams(
            "action",
            "action must be an action such as token:api-key:regenerate, or a prefix ending in *"
            " such as token:*.",
        )
    return value


def parse_timestamp(value: str | None, name: str) -> datetime | None:
    """An RFC 3339 timestamp (``2026-12-01T18:00:00Z``) as aware UTC, or 422 naming ``name``."""
    if value is None or value == "":
        return None
    if not _RFC3339.match(value):
        raise InvalidParams(name, f"{name} must be an RFC 3339 time such as 2026-12-01T18:00:00Z.")
    try:
        moment = datetime.fromisoformat(value.upper().replace("Z", "+00:00"))
    except ValueError:
        raise InvalidParams(name, f"{name} is not a valid time.") from None
    return moment.astimezone(UTC)


def check_window(since: datetime | None, until: datetime | None) -> None:
    """``since`` after ``until`` asks for nothing: a mistake worth saying (422)."""
    if since is not None and until is not None and since > until:
        raise InvalidParams("since", "since must not be later than until.")


def escape_like(prefix: str) -> str:
    """A prefix for SQL LIKE ... ESCAPE '\\': its own ``%`` and ``_`` match only themselves."""
    return prefix.replace("\\", "\\\\").replace("%", "\\%").replace("_", "\\_") + "%"


def as_seen_by(event: LoggedEvent, account_id: str) -> LoggedEvent:
    """``event`` as the account ``account_id`` may see it.

    An event is in an account's log when it acted or when it was done to it; in the second case
    another account may have acted (an owner adding it as a collaborator), and that account's
    request (its address, agent, request id) and credential are that account's own business,
    so they are left out. A refused credential's event has no acting account: the address it
    was tried from is exactly what its owner needs to see.
    """
    if event.actor_id is None or event.actor_id == account_id:
        return event
    return dataclasses.replace(
        event,
        authorization_id=None,
        token=None,
        client_id=None,
        ip=None,
        user_agent=None,
        request_id=None,
    )
