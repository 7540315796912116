"""The token tables behind the protocol core's stores (``oauth2.protocols``): codes, refresh
tokens, device authorizations, revocation and introspection.

Each store works in the request's unit (one transaction). What it finds it locks (``FOR
UPDATE``; ``BEGIN IMMEDIATE`` on SQLite), so two uses of one secret are decided one after the
other, and it keeps the rows it found for the calls that follow in the same transaction.
"""

from __future__ import annotations

from sqlalchemy import select

from ostiary.accounts.queries import account_disabled
from ostiary.db import Database
from ostiary.oauth2.protocols import (
    Client,
    PollOutcome,
    StartedDevice,
    StoredCode,
    StoredDevice,
    StoredRefresh,
    StoredToken,
)
from ostiary.oauth_clients.oauth_storage import Clients
from ostiary.oauth_clients.records import ClientRecord
from ostiary.security.hashing import SecretHasher
from ostiary.tokens import device
from ostiary.tokens.descriptions import (
    TokenDescription,
    client_with_access,
    complete_description,
    describe_token,
)
from ostiary.tokens.models import (
    AccessToken,
    Authorization,
    AuthorizationGrant,
    AuthorizationKind,
    DeviceAuthorization,
    RefreshToken,
)
from ostiary.tokens.records import IssuedAuthorization
from ostiary.tokens.services import (
    authorization_event,
    grant_expiry,
    issue_access_token,
    issue_refresh_token,
    revoke,
    revoke_access_row,
    revoke_with_descendants,
)
from ostiary.unit import Unit


def _issue_pair(unit: Unit, authorization: Authorization, *, rotate: bool) -> IssuedAuthorization:
    """An access token and a refresh token; ``rotate`` makes the new refresh token the live
    generation (otherwise it is a sibling of the live one)."""
    if rotate:
        authorization.refresh_generation += 1
    access = issue_access_token(unit, authorization)
    refresh = issue_refresh_token(unit, authorization)
    authorization.updated_at = unit.now()
    unit.session.flush()
    return IssuedAuthorization(authorization, access, refresh)


class CodeGrants:
    """Authorization codes (RFC 6749 section 4.1.3), on ``authorization_grants``."""

    def __init__(self, unit: Unit) -> None:
        self._unit = unit
        self._found: dict[str, AuthorizationGrant] = {}

    def find_code(self, code: str) -> StoredCode | None:
        """The code, locked."""
        unit = self._unit
        grant = unit.session.scalar(
            select(AuthorizationGrant)
            .where(AuthorizationGrant.code_hash == unit.hasher.hash(code))
            .with_for_update(of=AuthorizationGrant)
        )
        if grant is None:
            return None
        self._found[grant.id] = grant
        authorization = grant.authorization
        return StoredCode(
            id=grant.id,
            client_id=authorization.client_id,
            used=grant.used_at is not None,
            expires_at=grant.expires_at,
            redirect_uri=grant.redirect_uri,
            code_challenge=grant.code_challenge,
            authorization_active=authorization.is_active(unit.now())
            and not account_disabled(unit.session, authorization.account_id),
        )

    def revoke_code_family(self, code: StoredCode) -> None:
        """A replayed code: its authorization and every token of it (rule R11)."""
        revoke(self._unit, self._found[code.id].authorization, "oauth:grant:replay")

    def redeem(self, code: StoredCode) -> IssuedAuthorization:
        """Spend the code; the authorization's first access and refresh tokens."""
        grant = self._found[code.id]
        grant.used_at = self._unit.now()
        issued = _issue_pair(self._unit, grant.authorization, rotate=True)
        authorization_event(
            self._unit,
            "oauth:token:issue",
            grant.authorization,
            {"grant": "code"},
        )
        return issued


class RefreshTokens:
    """Rotating refresh tokens (RFC 6749 section 6; RFC 9700 section 4.14), on
    ``refresh_tokens``; the authorization is the family and holds the live generation."""

    def __init__(self, unit: Unit) -> None:
        self._unit = unit
        self._found: dict[str, tuple[RefreshToken, Authorization]] = {}

    def find_refresh(self, token: str) -> StoredRefresh | None:
        """The refresh token and its authorization, both locked."""
        session = self._unit.session
        row = session.scalar(
            select(RefreshToken)
            .where(RefreshToken.token_hash == self._unit.hasher.hash(token))
            .with_for_update(of=RefreshToken)
        )
        if row is None:
            return None
        authorization = session.scalar(
            select(Authorization)
            .where(Authorization.id == row.authorization_id)
            .with_for_update(of=Authorization)
        )
        assert authorization is not None  # the foreign key holds it
        self._found[authorization.id] = (row, authorization)
        return StoredRefresh(
            authorization_id=authorization.id,
            client_id=authorization.client_id,
            generation=row.generation,
            current_generation=authorization.refresh_generation,
            rotated_at=row.rotated_at,
            scopes=list(authorization.scopes),
            # Suspended by an alert (ostiary.alerts): no new tokens until its owner reinstates it.
            authorization_active=authorization.is_active(self._unit.now())
            and authorization.suspended_at is None
            and not account_disabled(session, authorization.account_id),
        )

    def revoke_family(self, refresh: StoredRefresh) -> None:
        """Reuse detected: the whole family."""
        _, authorization = self._found[refresh.authorization_id]
        revoke(self._unit, authorization, "oauth:refresh:reuse-detected")

    def rotate(self, refresh: StoredRefresh, *, advance: bool) -> IssuedAuthorization:
        """New tokens; ``advance`` spends the presented generation."""
        row, authorization = self._found[refresh.authorization_id]
        if advance:
            row.rotated_at = self._unit.now()
        issued = _issue_pair(self._unit, authorization, rotate=advance)
        authorization_event(self._unit, "oauth:token:refresh", authorization)
        return issued


class DeviceGrants:
    """Device authorizations of registered clients (RFC 8628), on ``device_authorizations``."""

    def __init__(self, unit: Unit) -> None:
        self._unit = unit
        self._found: dict[str, DeviceAuthorization] = {}

    def start_device(self, client: Client, scopes: list[str]) -> StartedDevice:
        """A new device authorization and its codes."""
        unit = self._unit
        started = device.start(
            unit,
            kind=device.DeviceKind.DEVICE,
            scopes=scopes,
            client_id=client.id,
        )
        return StartedDevice(
            device_code=started.device_code,
            user_code=started.user_code,
            interval=started.row.interval,
            expires_in=int(device.LIFETIMES[device.DeviceKind.DEVICE].total_seconds()),
        )

    def find_device(self, device_code: str) -> StoredDevice | None:
        """The device authorization, locked."""
        row = device.find_by_device_code(self._unit, device_code, kind=device.DeviceKind.DEVICE)
        if row is None:
            return None
        self._found[row.id] = row
        return StoredDevice(
            id=row.id,
            client_id=row.client_id,
            status=row.status,
            expires_at=row.expires_at,
            last_polled_at=row.last_polled_at,
            interval=row.interval,
        )

    def record_poll(self, found: StoredDevice, outcome: PollOutcome) -> None:
        """Keep the poll's bookkeeping."""
        device.apply_poll(self._found[found.id], outcome)

    def issue_for_device(self, found: StoredDevice, client: Client) -> IssuedAuthorization:
        """A new OAuth authorization for the approved device: access and refresh tokens."""
        unit = self._unit
        row = self._found[found.id]
        assert row.account_id is not None  # approved by a signed-in account
        authorization = Authorization(
            account_id=row.account_id,
            kind=AuthorizationKind.OAUTH,
            scopes=list(row.scopes),
            description=f"Authorized {client.name} (device)",
            client_id=client.id,
            expires_at=grant_expiry(unit, row.account_id, list(row.scopes)),
        )
        unit.session.add(authorization)
        unit.session.flush()
        issued = _issue_pair(unit, authorization, rotate=False)
        authorization_event(
            unit,
            "oauth:token:issue",
            authorization,
            {"grant": "device_code", "client_id": client.id},
        )
        return issued


class Revocations:
    """Token revocation (RFC 7009) on the token tables."""

    def __init__(self, unit: Unit) -> None:
        self._unit = unit
        self._found: dict[str, RefreshToken | AccessToken] = {}

    def find_revocable(self, token: str) -> StoredToken | None:
        """A refresh token first (it names a whole family), then an access token."""
        session = self._unit.session
        token_hash = self._unit.hasher.hash(token)
        refresh = session.scalar(select(RefreshToken).where(RefreshToken.token_hash == token_hash))
        if refresh is not None:
            self._found[refresh.id] = refresh
            return StoredToken(
                "refresh_token",
                refresh.id,
                refresh.authorization_id,
                refresh.authorization.client_id,
            )
        access = session.scalar(select(AccessToken).where(AccessToken.token_hash == token_hash))
        if access is None:
            return None
        self._found[access.id] = access
        return StoredToken(
            "access_token", access.id, access.authorization_id, access.authorization.client_id
        )

    def revoke(self, token: StoredToken, client: Client) -> None:
        """A refresh token's authorization, or an access token; and what either made."""
        unit = self._unit
        row = self._found[token.id]
        now = unit.now()
        if isinstance(row, RefreshToken):
            revoke_with_descendants(unit.session, Authorization.id == row.authorization_id, now=now)
            target_type, target_id = "authorization", row.authorization_id
        else:
            revoke_access_row(unit, row)
            target_type, target_id = "token", row.id
        unit.record(
            "oauth:token:revoke",
            actor_id=row.authorization.account_id,
            target_type=target_type,
            target_id=target_id,
            details={"token_type": token.token_type, "client_id": client.id},
        )


class TokenDescriptions:
    """Token introspection (RFC 7662) by the prepared lookups of ``tokens.descriptions``.

    Given the token the request names (``named``), it is the endpoint's client store too
    (``ClientStore``): the client is read with that access token in one lookup
    (``descriptions.client_with_access``), and describing the token then reads nothing more
    (a refresh token excepted). The client is authenticated on what that lookup read, as a
    lookup of its own would have read it."""

    def __init__(
        self,
        database: Database,
        hasher: SecretHasher,
        api_key_max_age: int | None = None,
        *,
        named: str | None = None,
    ) -> None:
        self._database = database
        self._hasher = hasher
        self._api_key_max_age = api_key_max_age
        self._clients = Clients(database, hasher)
        self._named = named
        # What the client's lookup read of the named token: (its hash, the access token found).
        self._read_with_client: tuple[str, TokenDescription | None] | None = None

    def find_client(self, client_id: str) -> ClientRecord | None:
        """The client, as last committed (read with the named token)."""
        if self._named is None:
            return self._clients.find_client(client_id)
        token_hash = self._hasher.hash(self._named)
        client, access = client_with_access(self._database, client_id, token_hash)
        self._read_with_client = (token_hash, access)
        return client

    def secret_matches(self, client: ClientRecord, secret: str | None) -> bool:
        """Whether the secret is the client's current one (constant time)."""
        return self._clients.secret_matches(client, secret)

    def describe(self, token: str) -> TokenDescription | None:
        """The access or refresh token, as last committed (an API key's with its age limit:
        ``OSTIARY_API_KEY_MAX_AGE``, or its account's stricter one)."""
        read = self._read_with_client
        if read is not None and token == self._named:
            token_hash, access = read
            return complete_description(self._database, token_hash, access, self._api_key_max_age)
        return describe_token(self._database, self._hasher.hash(token), self._api_key_max_age)
