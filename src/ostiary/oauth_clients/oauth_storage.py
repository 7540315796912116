"""The client table behind the protocol core's client stores (``oauth2.protocols``)."""

from __future__ import annotations

from sqlalchemy import select
from sqlalchemy.orm import Session

from ostiary.db import Database
from ostiary.oauth_clients.models import OAuthClient
from ostiary.oauth_clients.records import ClientRecord, load_client_record
from ostiary.oauth_clients.rules import verify_client_secret
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


class RegisteredClients:
    """Clients with their redirect URIs, for the authorization endpoint (``ClientDirectory``)."""

    def __init__(self, session: Session) -> None:
        self._session = session

    def find_registered(self, client_id: str) -> OAuthClient | None:
        """The client, in the request's transaction."""
        return self._session.scalar(select(OAuthClient).where(OAuthClient.id == client_id))
