"""The activity log's domain errors: its filters answer 422 ``invalid_params`` (raised as
:class:`ostiary.errors.InvalidParams` by ``rules``) and an unknown ``app`` 404 (below)."""

from __future__ import annotations

from ostiary.errors import NotFound


class AppNotFound(NotFound):
    """The ``app`` filter names no app the account can see (an id is taken as it is)."""

    def __init__(self) -> None:
        super().__init__("app", "Couldn't find that app.")
