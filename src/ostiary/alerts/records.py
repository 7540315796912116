"""What the detectors of unusual use hand to the alerts (an :class:`Anomaly`), and what the alerts
hand back to their readers (:class:`RaisedAlert`, :class:`AlertPolicyRecord`)."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

Rule = Literal[
    "spike",
    "new-network",
    "new-user-agent",
    "dormant-use",
    "probing",
    "dead-credential",
    "leaked",
    "expiring",
    "expired",
    "idle-revocation",
    "idle-revoked",
]
# The detectors of unusual use.
UNUSUAL_USE_RULES: tuple[Rule, ...] = (
    "spike",
    "new-network",
    "new-user-agent",
    "dormant-use",
    "probing",
    "dead-credential",
)
# A credential's life told to its owner: found leaked (and revoked), about to expire or expired,
# about to be revoked for idleness, revoked for it. Told like alerts; they never suspend.
LIFECYCLE_RULES: tuple[Rule, ...] = (
    "leaked",
    "expiring",
    "expired",
    "idle-revocation",
    "idle-revoked",
)
RULES: tuple[Rule, ...] = UNUSUAL_USE_RULES + LIFECYCLE_RULES


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One rule's finding about one credential of one account: an authorization, or (with
    ``authorization_id`` None) the secret of the account's OAuth client ``client_id``, which
    only a leak report raises.

    ``details`` are the rule's own facts (the hour's count and the median, the new network, the
    new user-agent family, the days of dormancy, the refusals): never a token or secret.
    """

    rule: Rule
    account_id: str
    authorization_id: str | None
    observed_at: datetime
    details: dict[str, object] = field(default_factory=dict)
    client_id: str | None = None


AlertSink = Callable[[Session, Sequence[Anomaly]], None]
"""Raises the alerts of anomalies, in the caller's transaction (``alerts.services``)."""


@dataclass(frozen=True, slots=True)
class RaisedAlert:
    """An alert as its owner reads it (the API, the dashboard)."""

    id: str
    account_id: str
    authorization_id: str | None
    rule: str
    raised_at: datetime
    seen_at: datetime | None
    details: dict[str, object]
    # The credential's state now: suspended by this alert, and whether it may be reinstated.
    suspended: bool = False

    @property
    def summary(self) -> str:
        """The sentence written for a person when it was raised."""
        return str(self.details.get("summary", self.rule))

    @property
    def credential(self) -> str:
        """How a person recognises the credential."""
        credential = self.details.get("credential")
        if isinstance(credential, dict):
            return str(credential.get("label", ""))
        return ""


@dataclass(frozen=True, slots=True)
class AlertPolicyRecord:
    """An account's alert policy: the rules that suspend the credential they fire on."""

    suspend_on: tuple[Rule, ...] = ()
