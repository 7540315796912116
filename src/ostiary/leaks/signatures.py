"""GitHub's signature on a secret scanning payload: ECDSA over P-256 with SHA-256, the
signature base64 of its DER form, made with the key the ``GITHUB-PUBLIC-KEY-IDENTIFIER`` header
names (GitHub's secret scanning partner program; FIPS 186-4 for ECDSA, RFC 5480 for the keys).

The key set is GitHub's ``public_keys`` document saved to a file
(``OSTIARY_GITHUB_SCANNING_KEYS``), so verification needs no network and a test can sign with
its own keys. Only P-256 keys are kept: a key of another curve in the file cannot be used to
pass a weaker signature.
"""

from __future__ import annotations

import base64
import binascii
import json
import os
from functools import lru_cache
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import hashes
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import load_pem_public_key

from ostiary.leaks.errors import BadSignature, UnsignedPayload

KeySet = dict[str, ec.EllipticCurvePublicKey]
MAX_SIGNATURE_LENGTH = 200  # base64 of a P-256 DER signature is at most 96 characters


class KeySetError(ValueError):
    """The key file cannot be read as GitHub's ``public_keys`` document."""


def parse_key_set(document: bytes) -> KeySet:
    """The P-256 keys of a ``{"public_keys": [{"key_identifier", "key", ...}]}`` document, by
    identifier; KeySetError when it is not one."""
    try:
        parsed = json.loads(document)
        entries = parsed["public_keys"]
        if not isinstance(entries, list):
            raise TypeError("public_keys is not a list")
        keys: KeySet = {}
        for entry in entries:
            public = load_pem_public_key(str(entry["key"]).encode("ascii"))
            if isinstance(public, ec.EllipticCurvePublicKey) and isinstance(
                public.curve, ec.SECP256R1
            ):
                keys[str(entry["key_identifier"])] = public
    except (ValueError, TypeError, KeyError, UnicodeEncodeError) as error:
        raise KeySetError(f"not GitHub's public_keys JSON: {error}") from error
    return keys


@lru_cache(maxsize=4)
def _cached(path: str, mtime_ns: int, size: int) -> KeySet:
    return parse_key_set(Path(path).read_bytes())


def load_key_set(path: Path) -> KeySet:
    """The key set in ``path``, read again only when the file changes (a key rotated in by
    replacing the file takes effect without a restart)."""
    stat = os.stat(path)
    return _cached(str(path), stat.st_mtime_ns, stat.st_size)


def verify_payload(
    keys: KeySet, identifier: str | None, signature: str | None, payload: bytes
) -> None:
    """Nothing when ``signature`` is a valid signature of the raw ``payload`` by the key named
    ``identifier``; UnsignedPayload when a header is missing, BadSignature otherwise."""
    if not identifier or not signature:
        raise UnsignedPayload()
    key = keys.get(identifier)
    if key is None or len(signature) > MAX_SIGNATURE_LENGTH:
        raise BadSignature()
    try:
        der = base64.b64decode(signature, validate=True)
        key.verify(der, payload, ec.ECDSA(hashes.SHA256()))
    except (binascii.Error, ValueError, InvalidSignature) as error:
        raise BadSignature() from error
