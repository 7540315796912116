"""The values of webhooks: the event types, levels and statuses they speak (Heroku's words)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Include = Literal["alert", "event"]
INCLUDES: tuple[Include, ...] = ("alert", "event")
"""``alert``: the anomaly alerts (events ``alert:<rule>``); ``event``: every activity-log event
of the account (alerts included)."""

LEVELS = ("notify", "sync")

PENDING, RETRYING, SUCCEEDED, FAILED = "pending", "retrying", "succeeded", "failed"
"""A delivery's status (Heroku's ``app-webhook-delivery`` statuses)."""


@dataclass(frozen=True, slots=True)
class CreatedWebhook:
    """A new webhook's id and its secret in plaintext: shown once, in the creating answer."""

    id: str
    secret: str


@dataclass(frozen=True, slots=True)
class AttemptOutcome:
    """What one POST to a receiver came to: the HTTP status, or the class of the error."""

    code: int | None
    error_class: str | None

    @property
    def succeeded(self) -> bool:
        """A 2xx answer; a redirect is not followed, so it fails like any other answer."""
        return self.code is not None and 200 <= self.code < 300
