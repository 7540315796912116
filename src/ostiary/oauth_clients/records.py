"""A client as the token, revocation and introspection endpoints see it: the fields that
authenticate it and scope its tokens, read by one prepared lookup.

These endpoints authenticate a client on every request; loading the ORM object cost more than
the rest of an introspection (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import datetime

from sqlalchemy import bindparam, exists

from ostiary.accounts.models import Account
from ostiary.db import Database, table_of
from ostiary.oauth_clients.models import ClientType, OAuthClient
from ostiary.prepared import ReadModel


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A registered client's identity, credentials and client-credentials scopes."""

    id: str
    owner_id: str | None  # None for a first-party client
    name: str
    client_type: str
    secret_hash: str | None
    client_credentials_scopes: list[str] | None
    previous_secret_hash: str | None = None
    previous_secret_expires_at: datetime | None = None
    owner_disabled: bool = False  # an administrator disabled the owner: no tokens for it

    @property
    def owner_active(self) -> bool:
        """Whether tokens may be issued for the owner (no administrator disabled it)."""
        return not self.owner_disabled

    @property
    def is_public(self) -> bool:
        """Whether the client has no secret (RFC 6749 section 2.1)."""
        return self.client_type == ClientType.PUBLIC


_clients = table_of(OAuthClient)
_accounts = table_of(Account)

CLIENT_RECORD = ReadModel(
    ClientRecord,
    _clients,
    # Read with the client, so the token endpoint learns it without a query of its own.
    owner_disabled=exists().where(
        _accounts.c.id == _clients.c.owner_id, _accounts.c.disabled_at.is_not(None)
    ),
)
"""A :class:`ClientRecord` reads the columns of the same names."""

CLIENT_BY_ID = CLIENT_RECORD.select().where(_clients.c.id == bindparam("client_id"))
"""The client whose id is the parameter ``client_id``."""


def load_client_record(database: Database, client_id: str) -> ClientRecord | None:
    """The client with this id, as last committed, or None."""
    return database.prepared(CLIENT_BY_ID).first_as(CLIENT_RECORD, client_id=client_id)
