"""The client table behind the protocol core's client stores (``oauth2.protocols``), and the
clients a worker remembers for the client credentials grant (:class:`ClientMemory`)."""

from __future__ import annotations

import time

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.db import Database
from ostiary.oauth_clients.models import OAuthClient
from ostiary.oauth_clients.records import ClientRecord, load_client_record
from ostiary.oauth_clients.rules import client_secret_hash_matches, verify_client_secret
from ostiary.security.hashing import SecretHasher


class Clients:
    """Clients as the token, revocation and introspection endpoints authenticate them: one
    prepared lookup each, outside any transaction (``ClientStore``)."""

    def __init__(self, database: Database, hasher: SecretHasher) -> None:
        self._database = database
        self._hasher = hasher

    def find_client(self, client_id: str) -> ClientRecord | None:
        """The client, as last committed."""
        return load_client_record(self._database, client_id)

    def secret_matches(self, client: ClientRecord, secret: str | None) -> bool:
        """Whether the secret is the client's current one (constant time)."""
        return verify_client_secret(self._hasher, client, secret)


# How long a worker trusts what it read of a client for the client credentials grant, and how
# many clients (with the secret each authenticated with) it remembers at most.
REMEMBERED_FOR = 5.0
REMEMBERED_AT_MOST = 1000


class ClientMemory:
    """The clients this worker read for the client credentials grant, each under the keyed hash
    of the secret that authenticated it, for :data:`REMEMBERED_FOR` seconds.

    Machine-to-machine callers fetch tokens often, always with the same client and secret, and
    reading the client cost a query per token (a round trip on PostgreSQL). Remembering it is
    safe only because the transaction that stores such a token reads the client again and
    refuses the token unless the client stands exactly as it was remembered
    (``tokens.client_credentials``): a secret retired or rotated, a client deleted, its scopes
    narrowed or its owner disabled refuse the next token, whatever was remembered. Only a
    secret that authenticated is remembered, so a caller guessing secrets cannot fill it; a
    secret never authenticated before is checked against the database, as without it.
    """

    def __init__(self, ttl: float = REMEMBERED_FOR, size: int = REMEMBERED_AT_MOST) -> None:
        self._ttl = ttl
        self._size = size
        self._clients: dict[tuple[str, str], tuple[ClientRecord, float]] = {}

    def recall(self, client_id: str, secret_hash: str) -> ClientRecord | None:
        """The client as read when this secret last authenticated it, while that is recent."""
        remembered = self._clients.get((client_id, secret_hash))
        if remembered is None:
            return None
        client, until = remembered
        if time.monotonic() >= until:
            del self._clients[(client_id, secret_hash)]
            return None
        return client

    def remember(self, client: ClientRecord, secret_hash: str) -> None:
        """Remember the client as this secret just authenticated it."""
        key = (client.id, secret_hash)
        if key not in self._clients and len(self._clients) >= self._size:
            del self._clients[next(iter(self._clients))]  # the longest remembered
        self._clients[key] = (client, time.monotonic() + self._ttl)

    def forget(self, client_id: str) -> None:
        """Forget the client, under every secret it was remembered with."""
        for key in [key for key in self._clients if key[0] == client_id]:
            del self._clients[key]


class RememberingClients:
    """:class:`Clients` for one client credentials request, through the worker's
    :class:`ClientMemory`: the client is recalled when the request's secret authenticated it
    recently, and otherwise read, then remembered if the secret authenticates it
    (``ClientStore``). The request's secret is hashed once, for the memory and the check."""

    def __init__(
        self, clients: Clients, memory: ClientMemory, hasher: SecretHasher, secret: str | None
    ) -> None:
        self._clients = clients
        self._memory = memory
        self._hasher = hasher
        self._secret = secret
        self._secret_hash = hasher.hash(secret) if secret else None
        self.recalled: str | None = None
        """The id of the client recalled from the memory, if one was."""

    def find_client(self, client_id: str) -> ClientRecord | None:
        """The client as remembered with this request's secret, or as last committed."""
        if self._secret_hash is not None:
            remembered = self._memory.recall(client_id, self._secret_hash)
            if remembered is not None:
                self.recalled = client_id
                return remembered
        return self._clients.find_client(client_id)

    def secret_matches(self, client: ClientRecord, secret: str | None) -> bool:
        """Whether the secret is the client's current one (constant time); a client just read
        is remembered with the secret that authenticated it, and a remembered one it no longer
        authenticates (its rotation's grace is over) is forgotten."""
        # Two values the caller presented, no stored secret: a plain comparison tells nothing.
        same = secret == self._secret
        secret_hash = self._secret_hash if same else self._hasher.hash(secret) if secret else None
        matches = secret_hash is not None and client_secret_hash_matches(client, secret_hash)
        if self.recalled is None:
            if matches and secret_hash is not None:
                self._memory.remember(client, secret_hash)
        elif not matches:
            self._memory.forget(client.id)
        return matches


class RegisteredClients:
    """Clients with their redirect URIs, for the authorization endpoint (``ClientDirectory``)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def find_registered(self, client_id: str) -> OAuthClient | None:
        """The client, in the request's transaction."""
        return self._session.scalar(select(OAuthClient).where(OAuthClient.id == client_id))
