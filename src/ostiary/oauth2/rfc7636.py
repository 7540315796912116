"""Proof Key for Code Exchange (RFC 7636), S256 only (rules R5-R8).

A verifier is 43 to 128 characters from ``[A-Za-z0-9-._~]`` (section 4.1); the challenge is
``BASE64URL(SHA256(verifier))`` without padding (section 4.2). ``plain`` is refused.
"""

from __future__ import annotations

import base64
import hashlib
import hmac
import re

SUPPORTED_METHODS = ("S256",)
_VERIFIER = re.compile(r"^[A-Za-z0-9\-._~]{43,128}$")
_CHALLENGE = re.compile(r"^[A-Za-z0-9\-_]{43}$")


def is_valid_verifier(verifier: str) -> bool:
    """Whether a code_verifier has the length and characters RFC 7636 section 4.1 allows."""
    return _VERIFIER.fullmatch(verifier) is not None


def is_valid_challenge(challenge: str) -> bool:
    """Whether a code_challenge looks like an S256 challenge (43 base64url characters)."""
    return _CHALLENGE.fullmatch(challenge) is not None


def s256(verifier: str) -> str:
    """The S256 challenge of a verifier (RFC 7636 section 4.2)."""
    digest = hashlib.sha256(verifier.encode("ascii")).digest()
    return base64.urlsafe_b64encode(digest).rstrip(b"=").decode("ascii")


def verify(verifier: str, challenge: str) -> bool:
    """Whether a verifier answers a challenge, compared in constant time (section 4.6)."""
    return is_valid_verifier(verifier) and hmac.compare_digest(s256(verifier), challenge)
