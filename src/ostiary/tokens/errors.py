"""The errors of authorizations and tokens, each a kind of the domain error tree
(``ostiary.errors``), which ``web.errors`` maps to HTTP."""

from __future__ import annotations

from ostiary.errors import Forbidden, NotFound


class AuthorizationNotFound(NotFound):
    """No such authorization of the account (revoked ones included)."""

    def __init__(self) -> None:
        super().__init__("authorization")


class TokenNotFound(NotFound):
    """No such live access token of the account."""

    def __init__(self) -> None:
        super().__init__("token")


class CredentialNotAllowed(Forbidden):
    """The presenting credential may not do this (docs/architecture.md, "Tokens"): a
    third-party or machine token creating authorizations, a token acting outside its lineage,
    or scopes wider than the creator's."""
