"""The errors of OAuth clients, each a kind of the domain error tree (``ostiary.errors``), which
``web.errors`` maps to HTTP."""

from __future__ import annotations

from ostiary.errors import Audit, InvalidParams, NotFound, Unauthorized


class ClientNotFound(NotFound):
    """No such client, or not one the caller may see."""

    def __init__(self) -> None:
        super().__init__("client")


class PublicClientRefused(InvalidParams):
    """Something only a confidential client can have (a secret, client-credentials scopes)."""


class ClientChanged(Unauthorized):
    """The client changed between the request's authentication and the transaction storing its
    token (its secret retired or rotated, the client deleted, its scopes or owner changed): no
    token is stored; authenticated again, the request may succeed (``invalid_client``)."""

    def __init__(self, client_id: str) -> None:
        super().__init__(
            "The client changed while the request was served: authenticate again.",
            audit=Audit(
                "auth:failure",
                target_type="client",
                target_id=client_id,
                details={"reason": "client changed", "grant": "client_credentials"},
            ),
        )
        self.client_id = client_id
