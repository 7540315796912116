"""The errors of alerts, each a kind of the domain error tree (``ostiary.errors``), which
``web.errors`` maps to HTTP."""

from __future__ import annotations

from ostiary.errors import Forbidden, NotFound


class AlertNotFound(NotFound):
    """No such alert of the account (another account's alerts are not found either)."""

    def __init__(self) -> None:
        super().__init__("alert")


class ReinstateNotAllowed(Forbidden):
    """A suspended credential may not be reinstated by itself or by a credential it made: that
    is whoever holds the suspended one (a stolen key's child) lifting its own suspension."""

    def __init__(self) -> None:
        super().__init__(
            "A suspended credential cannot be reinstated by itself or by a token made with it "
            "(its descendants are suspended with it). Reinstate it from the dashboard or with "
            "another credential of the account, such as the API key."
        )
