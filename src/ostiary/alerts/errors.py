"""The errors of alerts, each a kind of the domain error tree (``ostiary.errors``), which
``web.errors`` maps to HTTP."""

from __future__ import annotations

from ostiary.errors import NotFound


class AlertNotFound(NotFound):
    """No such alert of the account (another account's alerts are not found either)."""

    def __init__(self) -> None:
        super().__init__("alert")
