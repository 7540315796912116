"""Passkey decisions without storage: the relying party of a public URL, the challenge an answer
carries, names, transports, and the signature counter's rule (WebAuthn L2 sections 5.4, 6.1.1,
7.1 and 7.2)."""

from __future__ import annotations

import base64
import binascii
import json
import unicodedata
from datetime import timedelta
from urllib.parse import urlsplit

from ostiary.passkeys.errors import InvalidPasskeyName
from ostiary.passkeys.records import RelyingParty

# How long a browser has to answer a challenge: WebAuthn L2 section 15.1 recommends timeouts of
# minutes; two leave time for a hardware key, and little for a stolen challenge.
CHALLENGE_LIFETIME = timedelta(minutes=2)
CHALLENGE_BYTES = 32  # WebAuthn L2 section 13.4.3: at least 16 random bytes.
NAME_LENGTH = 100
# WebAuthn L2 section 5.8.4 AuthenticatorTransport (L3 adds "hybrid" and "smart-card").
KNOWN_TRANSPORTS = frozenset({"usb", "nfc", "ble", "internal", "hybrid", "smart-card"})
PURPOSES = frozenset({"register", "sign-in", "second-factor", "reauthenticate"})
# The largest answer a ceremony accepts: a credential is a few kilobytes at most (an
# attestation with a certificate chain); anything bigger is refused before it is parsed.
MAX_ANSWER_BYTES = 64 * 1024


def relying_party(public_url: str) -> RelyingParty:
    """The relying party of a server reached at ``public_url``: its host name is the RP id and
    its scheme, host and port the one origin accepted (WebAuthn L2 sections 5.4.2, 13.4.9)."""
    parts = urlsplit(public_url)
    host = (parts.hostname or "").rstrip(".")
    if not host or parts.scheme not in {"http", "https"}:
        raise ValueError(f"{public_url!r} is not an http(s) URL with a host")
    default_port = {"http": 80, "https": 443}[parts.scheme]
    shown_host = f"[{host}]" if ":" in host else host
    port = f":{parts.port}" if parts.port and parts.port != default_port else ""
    return RelyingParty(id=host, origin=f"{parts.scheme}://{shown_host}{port}")


def b64url_decode(value: str) -> bytes:
    """Bytes from base64url with or without padding; ValueError when it is not base64url."""
    if not isinstance(value, str) or len(value) > 4 * MAX_ANSWER_BYTES:
        raise ValueError("not a base64url string")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError) as error:
        raise ValueError("not a base64url string") from error


def b64url(data: bytes) -> str:
    """base64url without padding, as WebAuthn's JSON forms write bytes."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def answered_challenge(credential: object) -> str:
    """The challenge an answer was made for (``response.clientDataJSON.challenge``, WebAuthn L2
    section 5.8.1), base64url; ValueError when the answer does not have that shape."""
    if not isinstance(credential, dict):
        raise ValueError("the credential is not a JSON object")
    response = credential.get("response")
    if not isinstance(response, dict):
        raise ValueError("the credential has no response")
    try:
        client_data = json.loads(b64url_decode(response.get("clientDataJSON", "")))
    except RecursionError as error:
        raise ValueError("the client data is nested too deeply") from error
    challenge = client_data.get("challenge") if isinstance(client_data, dict) else None
    if not isinstance(challenge, str) or not challenge:
        raise ValueError("the client data names no challenge")
    return challenge


def user_handle_matches(credential: dict[str, object], account_id: str) -> bool:
    """Whether an assertion's user handle, when it carries one, names the account that owns the
    credential (WebAuthn L2 section 7.2 step 6; the handle is the account id, see
    ``services.start_registration``)."""
    response = credential.get("response")
    handle = response.get("userHandle") if isinstance(response, dict) else None
    if handle is None or handle == "":
        return True
    try:
        return isinstance(handle, str) and b64url_decode(handle) == account_id.encode()
    except ValueError:
        return False


def sign_count_advanced(stored: int, presented: int) -> bool:
    """Whether an assertion's signature counter is acceptable (WebAuthn L2 section 7.2 step 21):
    it must exceed the stored one, unless both are zero (authenticators without a counter, such
    as synced passkeys, always send 0)."""
    if stored == 0 and presented == 0:
        return True
    return presented > stored


def passkey_name(name: str) -> str:
    """A passkey's name as stored: trimmed, at most 100 characters, no control characters."""
    cleaned = " ".join(name.split())
    if not cleaned:
        raise InvalidPasskeyName("Give the passkey a name.")
    if len(cleaned) > NAME_LENGTH:
        raise InvalidPasskeyName(f"A passkey's name is at most {NAME_LENGTH} characters.")
    if any(unicodedata.category(c) in {"Cc", "Cf", "Cs", "Co", "Cn"} for c in cleaned):
        raise InvalidPasskeyName("A passkey's name cannot hold control characters.")
    return cleaned


def transports_of(credential: object) -> list[str]:
    """The transports a registration answer names (``response.transports``), the known ones
    only, in order and once each: hints for the browser, never trusted for anything else."""
    if not isinstance(credential, dict):
        return []
    response = credential.get("response")
    listed = response.get("transports") if isinstance(response, dict) else None
    if not isinstance(listed, list):
        return []
    return list(dict.fromkeys(t for t in listed if isinstance(t, str) and t in KNOWN_TRANSPORTS))
