"""The errors of usage reads, each a kind of the domain error tree (``ostiary.errors``), which
``web.errors`` maps to HTTP."""

from __future__ import annotations

from ostiary.errors import InvalidParams


class InvalidUsageWindow(InvalidParams):
    """``since``/``until`` that are not ISO 8601 times, in the wrong order, or too far apart."""
