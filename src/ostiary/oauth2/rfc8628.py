"""The device authorization grant (RFC 8628; rule R39).

``POST /oauth/device/code`` gives a high-entropy ``device_code`` and an 8-character
``user_code`` from an unambiguous alphabet, shown as ``XXXX-XXXX``. The user approves at
``/device``, which names the client. The device polls the token endpoint with
``grant_type=urn:ietf:params:oauth:grant-type:device_code`` and gets ``authorization_pending``,
``slow_down`` (interval +5 s, kept for later polls), ``access_denied``, ``expired_token``, or its
tokens, once.
"""

from __future__ import annotations

from sqlalchemy.orm import Session

from ostiary.events import RequestContext
from ostiary.oauth2.errors import OAuthError, invalid_request
from ostiary.oauth_clients.records import ClientRecord
from ostiary.security.hashing import SecretHasher
from ostiary.tokens.device import (
    LIFETIMES,
    DeviceKind,
    PollState,
    display_user_code,
    find_by_device_code,
    poll,
    start,
)
from ostiary.tokens.exchange import issue_for_device
from ostiary.tokens.records import IssuedAuthorization, TokenSet
from ostiary.tokens.scopes import parse_scopes
from ostiary.tokens.services import issue_refresh_token

GRANT_TYPE = "urn:ietf:params:oauth:grant-type:device_code"


class PollError(OAuthError):
    """A poll's answer short of tokens; its bookkeeping (last poll, interval) is kept."""

    keeps_changes = True


def device_authorization(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    client: ClientRecord,
    form: dict[str, str],
    verification_uri: str,
) -> dict[str, object]:
    """RFC 8628 section 3.2: the codes and where the user should go."""
    try:
        scopes = parse_scopes(form.get("scope", "global"))
    except Exception as error:
        raise OAuthError("invalid_scope", str(error)) from error
    started = start(session, hasher, context, kind=DeviceKind.DEVICE, scopes=scopes, client=client)
    shown = display_user_code(started.user_code)
    return {
        "device_code": started.device_code,
        "user_code": shown,
        "verification_uri": verification_uri,
        "verification_uri_complete": f"{verification_uri}?user_code={shown}",
        "expires_in": int(LIFETIMES[DeviceKind.DEVICE].total_seconds()),
        "interval": started.row.interval,
    }


def grant(
    session: Session,
    hasher: SecretHasher,
    context: RequestContext,
    client: ClientRecord,
    form: dict[str, str],
    access_ttl: int,
) -> TokenSet:
    """RFC 8628 section 3.4: a poll."""
    device_code = form.get("device_code")
    if device_code is None:
        raise invalid_request("device_code is required.")
    row = find_by_device_code(session, hasher, device_code, kind=DeviceKind.DEVICE)
    if row is None or row.client_id != client.id:
        raise OAuthError("invalid_grant", "Unknown device_code.")
    state = poll(row)
    if state is PollState.APPROVED:
        assert row.account_id is not None
        issued = issue_for_device(
            session,
            hasher,
            context,
            client=client,
            account_id=row.account_id,
            scopes=list(row.scopes),
            oauth_ttl=access_ttl,
        )
        refresh = issue_refresh_token(session, hasher, issued.authorization)
        session.flush()
        return IssuedAuthorization(issued.authorization, issued.access, refresh).token_set()
    descriptions = {
        PollState.PENDING: "The user has not yet approved this device.",
        PollState.SLOW_DOWN: f"Polling too fast; poll every {row.interval} seconds.",
        PollState.DENIED: "The user denied this device.",
        PollState.EXPIRED: "This device code has expired; start again.",
    }
    raise PollError(state.value, descriptions[state])
