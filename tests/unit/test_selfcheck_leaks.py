"""``ostiary check`` on the GitHub secret scanning key set: off, usable, unreadable, keyless."""

from __future__ import annotations

import json
from pathlib import Path

from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import ec

from ostiary.config import load_settings
from ostiary.selfcheck import Level, audit, check_github_scanning


def _pem(curve: ec.EllipticCurve) -> str:
    return (
        ec.generate_private_key(curve)
        .public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )


def test_the_key_set_is_checked(tmp_path: Path) -> None:
    assert check_github_scanning(load_settings(data_dir=tmp_path)).level == Level.OK
    keys = tmp_path / "keys.json"
    settings = load_settings(data_dir=tmp_path, github_scanning_keys=keys)
    missing = check_github_scanning(settings)
    assert missing.level == Level.ERROR
    assert missing in audit(settings)
    keys.write_text(
        json.dumps({"public_keys": [{"key_identifier": "a", "key": _pem(ec.SECP384R1())}]})
    )
    assert "no P-256 key" in check_github_scanning(settings).message
    keys.write_text(
        json.dumps({"public_keys": [{"key_identifier": "a", "key": _pem(ec.SECP256R1())}]})
    )
    usable = check_github_scanning(settings)
    assert usable.level == Level.OK
    assert "1 key" in usable.message
