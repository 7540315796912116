"""An event of the activity log as its readers get it (webhook deliveries, mail, exports)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime

from sqlalchemy.orm import Session


@dataclass(frozen=True, slots=True)
class LoggedEvent:
    """One event, sealed into the chain (``seq`` is its place in it).

    ``subject_id`` is the account it was done to when not the actor (a failed sign-in, a dead
    token of its tried, a collaborator added); ``token`` the credential's redacted form.
    """

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
    # Added with the activity log's API (all optional, so older constructors still work).
    subject_id: str | None = None
    token: str | None = None
    client_id: str | None = None
    app_id: str | None = None
    chain_hash: str | None = None


SealedEventsSubscriber = Callable[[Session, Sequence[LoggedEvent]], None]
"""Told of each batch of newly sealed events, in commit order and in the sealing transaction,
so what it enqueues (webhook deliveries, mail) is written exactly once with them."""
