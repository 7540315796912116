"""The errors of apps, each a kind of the domain error tree (``ostiary.errors``), which
``web.errors`` maps to HTTP."""

from __future__ import annotations

from ostiary.errors import Conflict, Forbidden, NotFound


class AppNotFound(NotFound):
    """No such app, or not one the caller may reach."""

    def __init__(self) -> None:
        super().__init__("app")


class AppNameTaken(Conflict):
    """Another app has this name."""

    def __init__(self, name: str) -> None:
        super().__init__(f"Name {name} is already taken.")


class OwnerOnly(Forbidden):
    """An action only the app's owner may take."""

    def __init__(self, action: str) -> None:
        super().__init__(f"Only the app's owner can {action}.")
