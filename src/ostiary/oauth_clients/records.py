"""A client as the token, revocation and introspection endpoints see it: the fields that
authenticate it and scope its tokens, read by one prepared lookup.

These endpoints authenticate a client on every request; loading the ORM object cost more than
the rest of an introspection (docs/architecture.md).
"""

from __future__ import annotations

from dataclasses import dataclass

from sqlalchemy import bindparam, select

from ostiary.db import Database, table_of
from ostiary.oauth_clients.models import ClientType, OAuthClient
from ostiary.prepared import as_list

_clients = table_of(OAuthClient)

_BY_ID = select(
    _clients.c.id,
    _clients.c.owner_id,
    _clients.c.name,
    _clients.c.client_type,
    _clients.c.secret_hash,
    _clients.c.client_credentials_scopes,
).where(_clients.c.id == bindparam("client_id"))


@dataclass(frozen=True, slots=True)
class ClientRecord:
    """A registered client's identity, credentials and client-credentials scopes."""

    id: str
    owner_id: str | None  # None for a first-party client
    name: str
    client_type: str
    secret_hash: str | None
    client_credentials_scopes: list[str] | None

    @property
    def is_public(self) -> bool:
        """Whether the client has no secret (RFC 6749 section 2.1)."""
        return self.client_type == ClientType.PUBLIC


def load_client_record(database: Database, client_id: str) -> ClientRecord | None:
    """The client with this id, as last committed, or None."""
    row = database.prepared(_BY_ID).first(client_id=client_id)
    if row is None:
        return None
    id_, owner_id, name, client_type, secret_hash, client_credentials_scopes = row
    return ClientRecord(
        id=id_,
        owner_id=owner_id,
        name=name,
        client_type=client_type,
        secret_hash=secret_hash,
        client_credentials_scopes=as_list(client_credentials_scopes),
    )
