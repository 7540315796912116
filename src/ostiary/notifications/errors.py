"""The notifications' domain errors: a settings change the API answers with 422
``invalid_params`` naming the field."""

from __future__ import annotations

from ostiary.errors import InvalidParams


class UnknownNotification(InvalidParams):
    """A setting that names no notification."""


class AlwaysSent(InvalidParams):
    """An attempt to turn off a security notification: those always go."""
