"""Parsing OAuth requests: form bodies with every parameter at most once (rule R36), and client
credentials from HTTP Basic or the body (RFC 6749 section 2.3.1)."""

from __future__ import annotations

import base64
import binascii
from dataclasses import dataclass
from urllib.parse import parse_qsl, unquote_plus

from ostiary.oauth2.errors import invalid_client, invalid_request


def parse_form(body: bytes) -> dict[str, str]:
    """An ``application/x-www-form-urlencoded`` body; a repeated parameter is refused.

    Empty values count as absent (RFC 6749 section 3.1); unknown parameters are kept and
    ignored by the endpoints.
    """
    try:
        pairs = parse_qsl(body.decode("utf-8"), keep_blank_values=True, strict_parsing=False)
    except UnicodeDecodeError as error:
        raise invalid_request("The request body is not UTF-8.") from error
    seen: dict[str, str] = {}
    for name, value in pairs:
        if name in seen:
            raise invalid_request(f"The parameter {name} was sent more than once.")
        seen[name] = value
    return {name: value for name, value in seen.items() if value != ""}


@dataclass(frozen=True, slots=True)
class ClientCredentials:
    """Who the client says it is, and how it said so."""

    client_id: str | None
    client_secret: str | None
    method: str  # "client_secret_basic", "client_secret_post" or "none"


def client_credentials(authorization: str | None, form: dict[str, str]) -> ClientCredentials:
    """The client's id and secret from Basic (urlencoded parts) or the form, never both."""
    scheme, _, value = (authorization or "").partition(" ")
    if scheme.lower() == "basic":
        if "client_secret" in form:
            raise invalid_request("Use one client authentication method, not two.")
        try:
            decoded = base64.b64decode(value.strip(), validate=True).decode("utf-8")
        except (binascii.Error, UnicodeDecodeError) as error:
            raise invalid_client("Malformed Basic credentials.", basic=True) from error
        client_id, separator, secret = decoded.partition(":")
        if not separator:
            raise invalid_client("Malformed Basic credentials.", basic=True)
        form_id = form.get("client_id")
        if form_id is not None and form_id != unquote_plus(client_id):
            raise invalid_request("client_id does not match the authenticated client.")
        return ClientCredentials(
            unquote_plus(client_id), unquote_plus(secret), "client_secret_basic"
        )
    if "client_secret" in form:
        return ClientCredentials(form.get("client_id"), form["client_secret"], "client_secret_post")
    return ClientCredentials(form.get("client_id"), None, "none")
