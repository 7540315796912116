"""An event of the activity log as its readers get it (webhook deliveries, mail, exports)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One event, sealed into the chain (``seq`` is its place in it)."""

    id: str
    seq: int
    action: str
    created_at: datetime
    actor_id: str | None
    authorization_id: str | None
    target_type: str | None
    target_id: str | None
    ip: str | None
    user_agent: str | None
    request_id: str | None
    outcome: str
    details: dict[str, object] = field(default_factory=dict)


SealedEventsSubscriber = Callable[[Session, Sequence[LoggedEvent]], None]
"""Told of each batch of newly sealed events, in commit order and in the sealing transaction,
so what it enqueues (webhook deliveries, mail) is written exactly once with them."""
