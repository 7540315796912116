"""What app queries and services take and hand back besides ORM rows: which apps a caller
may reach."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True, slots=True)
class AppAccess:
    """Who is asking for apps: an account, optionally limited to apps one authorization created
    (a token whose only fitting scope is ``create-apps``)."""

    account_id: str
    only_created_by: str | None = None
