"""GitHub's payload signatures (leaks.signatures): a key set of the test's own keys; a valid
signature passes, and an unsigned, tampered, mis-keyed or garbled one is refused."""

from __future__ import annotations

import base64
import json
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import hashes, serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ostiary.leaks.errors import BadSignature, UnsignedPayload
from ostiary.leaks.signatures import KeySetError, load_key_set, parse_key_set, verify_payload

BODY = b'[{"token":"x","type":"t","url":"u","source":"content"}]'


def _pem(key: ec.EllipticCurvePrivateKey) -> str:
    return (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def _key_set(**keys: ec.EllipticCurvePrivateKey) -> bytes:
    entries = [
        {"key_identifier": name, "key": _pem(key), "is_current": True} for name, key in keys.items()
    ]
    return json.dumps({"public_keys": entries}).encode()


def _sign(key: ec.EllipticCurvePrivateKey, body: bytes) -> str:
    return base64.b64encode(key.sign(body, ec.ECDSA(hashes.SHA256()))).decode()


def test_a_signature_by_the_named_key_verifies_and_every_other_is_refused() -> None:
    github, stranger = (
        ec.generate_private_key(ec.SECP256R1()),
        ec.generate_private_key(ec.SECP256R1()),
    )
    keys = parse_key_set(_key_set(k1=github))
    verify_payload(keys, "k1", _sign(github, BODY), BODY)
    with pytest.raises(UnsignedPayload):
        verify_payload(keys, None, _sign(github, BODY), BODY)
    with pytest.raises(UnsignedPayload):
        verify_payload(keys, "k1", None, BODY)
    refused = [
        ("k2", _sign(github, BODY), BODY),  # a key not in the set
        ("k1", _sign(stranger, BODY), BODY),  # someone else's key
        ("k1", _sign(github, BODY), BODY.replace(b'"x"', b'"y"')),  # tampered
        ("k1", "not base64!", BODY),
        ("k1", base64.b64encode(b"\x30\x00").decode(), BODY),  # not a DER signature
        ("k1", "A" * 10_000, BODY),
    ]
    for identifier, signature, body in refused:
        with pytest.raises(BadSignature):
            verify_payload(keys, identifier, signature, body)


def test_keys_of_other_curves_are_left_out_and_garbage_is_refused(tmp_path: Path) -> None:
    weak = ec.generate_private_key(ec.SECP384R1())
    assert parse_key_set(_key_set(other=weak)) == {}
    for document in (b"[]", b"{}", b'{"public_keys": [{"key": "x"}]}', b"not json"):
        with pytest.raises(KeySetError):
            parse_key_set(document)
    path = tmp_path / "keys.json"
    first, second = ec.generate_private_key(ec.SECP256R1()), ec.generate_private_key(ec.SECP256R1())
    path.write_bytes(_key_set(k1=first))
    assert set(load_key_set(path)) == {"k1"}
    path.write_bytes(_key_set(k1=first, k2second=second))
    assert set(load_key_set(path)) == {"k1", "k2second"}  # a changed file is read again
