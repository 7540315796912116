"""What the detectors of unusual use hand to the alerts: an :class:`Anomaly`."""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from datetime import datetime
from typing import Literal

from sqlalchemy.orm import Session

Rule = Literal[
    "spike", "new-network", "new-user-agent", "dormant-use", "probing", "dead-credential"
]
RULES: tuple[Rule, ...] = (
    "spike",
    "new-network",
    "new-user-agent",
    "dormant-use",
    "probing",
    "dead-credential",
)


@dataclass(frozen=True, slots=True)
class Anomaly:
    """One rule's finding about one credential (an authorization) of one account.

    ``details`` are the rule's own facts (the hour's count and the median, the new network, the
    new user-agent family, the days of dormancy, the refusals): never a token or secret.
    """

    rule: Rule
    account_id: str
    authorization_id: str
    observed_at: datetime
    details: dict[str, object] = field(default_factory=dict)


AlertSink = Callable[[Session, Sequence[Anomaly]], None]
"""Raises the alerts of anomalies, in the caller's transaction (``alerts.services``)."""
