"""The errors of OAuth clients, each a kind of the domain error tree (``ostiary.errors``), which
``web.errors`` maps to HTTP."""

from __future__ import annotations

from ostiary.errors import InvalidParams, NotFound


class ClientNotFound(NotFound):
    """No such client, or not one the caller may see."""

    def __init__(self) -> None:
        super().__init__("client")


class PublicClientRefused(InvalidParams):
    """Something only a confidential client can have (a secret, client-credentials scopes)."""
