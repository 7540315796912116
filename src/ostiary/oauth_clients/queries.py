"""Finding OAuth clients: an account's, or one by id (as the ORM object or its record)."""

from __future__ import annotations

from sqlalchemy import Select, select
from sqlalchemy.orm import Session

from ostiary.oauth_clients.errors import ClientNotFound
from ostiary.oauth_clients.models import OAuthClient


def clients_of(owner_id: str) -> Select[OAuthClient]:
    """The clients an account registered, as a query for pagination."""
    return select(OAuthClient).where(OAuthClient.owner_id == owner_id)


def find_client(
    session: Session, client_id: str, *, owner_id: str | None = None, for_change: bool = False
) -> OAuthClient:
    """A client by id; with ``owner_id``, only among that account's clients. ``for_change``
    locks its row (PostgreSQL; SQLite's writer lock is held already) for a change decided on
    what it reads: a rotation deciding on a secret that a leak report, committing meanwhile,
    retired would otherwise give the leaked secret a grace (``leaks.services``)."""
    query = select(OAuthClient).where(OAuthClient.id == client_id)
    if owner_id is not None:
        query = query.where(OAuthClient.owner_id == owner_id)
    if for_change:
        query = query.with_for_update()
    client = session.scalar(query)
    if client is None:
        raise ClientNotFound()
    return client
