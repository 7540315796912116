"""The refresh token grant (RFC 6749 section 6), with rotation and reuse detection (RFC 9700
section 4.14; ``oauth2.refresh_rotation``).

A refresh never widens scope (section 6; rule R17) and works only for its client (R19).
"""

from __future__ import annotations

from collections.abc import Callable
from datetime import datetime

from ostiary.errors import Forbidden, GrantReuse, InvalidGrant
from ostiary.oauth2.errors import invalid_request
from ostiary.oauth2.protocols import Client, RefreshStore, T
from ostiary.oauth2.refresh_rotation import Presented, classify
from ostiary.oauth2.rfc6749.client_auth import AuthenticatedClient, GrantClient

GRANT_TYPE = "refresh_token"


def rotate_refresh(
    refreshes: RefreshStore[T],
    client: GrantClient,
    *,
    token: str,
    scope: str | None,
    parse_scope: Callable[[str], list[str]],
    now: datetime,
) -> T:
    """Rotate a refresh token: new access and refresh tokens; the presented one is spent."""
    found = refreshes.find_refresh(token)
    if found is None:
        raise InvalidGrant("The refresh token is invalid.")
    client.confirm(found.client_id)
    if not found.authorization_active:
        raise InvalidGrant("This authorization was revoked or has expired.")
    if scope is not None and not set(parse_scope(scope)) <= set(found.scopes):
        raise Forbidden("A refresh cannot widen the authorization's scope.")
    presented = classify(found, now)
    if presented is Presented.REUSED:
        refreshes.revoke_family(found)
        raise GrantReuse(
            "The refresh token was already used; every token of this authorization was revoked."
        )
    return refreshes.rotate(found, advance=presented is Presented.CURRENT)


def grant(
    refreshes: RefreshStore[T],
    client: Client,
    form: dict[str, str],
    now: datetime,
    parse_scope: Callable[[str], list[str]],
) -> T:
    """The grant from a token request's form; an optional narrower ``scope`` is accepted."""
    token = form.get("refresh_token")
    if token is None:
        raise invalid_request("refresh_token is required.")
    return rotate_refresh(
        refreshes,
        AuthenticatedClient(client),
        token=token,
        scope=form.get("scope"),
        parse_scope=parse_scope,
        now=now,
    )
