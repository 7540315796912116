"""Sealed values (the TOTP seeds): they open with the same server secret for the same row and
purpose, and a tampered ciphertext, another row, another purpose or another secret is refused."""

from __future__ import annotations

import base64

import pytest

from ostiary.security.hashing import SecretHasher
from ostiary.security.sealing import Sealer, UnreadableSeal, derive_key, mail_body_sealer

SECRET = b"s" * 48


def test_a_sealed_value_opens_for_its_row() -> None:
    sealer = SecretHasher(SECRET).sealer("totp-secret")
    sealed = sealer.seal("JBSWY3DPEHPK3PXP", bound_to="account-1")
    assert "JBSWY3DPEHPK3PXP" not in sealed
    assert sealer.open(sealed, bound_to="account-1") == "JBSWY3DPEHPK3PXP"


def test_sealing_twice_gives_different_ciphertexts() -> None:
    sealer = SecretHasher(SECRET).sealer("totp-secret")
    assert sealer.seal("x", bound_to="a") != sealer.seal("x", bound_to="a")


def test_a_tampered_ciphertext_is_refused() -> None:
    sealer = SecretHasher(SECRET).sealer("totp-secret")
    sealed = sealer.seal("JBSWY3DPEHPK3PXP", bound_to="account-1")
    raw = bytearray(base64.b64decode(sealed[3:]))
    raw[-1] ^= 1
    tampered = "v1:" + base64.b64encode(bytes(raw)).decode()
    with pytest.raises(UnreadableSeal):
        sealer.open(tampered, bound_to="account-1")
    with pytest.raises(UnreadableSeal):
        sealer.open("v1:not base64!", bound_to="account-1")
    with pytest.raises(UnreadableSeal):
        sealer.open("plaintext", bound_to="account-1")


def test_copied_onto_another_row_it_does_not_open() -> None:
    sealer = SecretHasher(SECRET).sealer("totp-secret")
    sealed = sealer.seal("JBSWY3DPEHPK3PXP", bound_to="account-1")
    with pytest.raises(UnreadableSeal):
        sealer.open(sealed, bound_to="account-2")


def test_another_purpose_or_server_secret_does_not_open_it() -> None:
    sealed = SecretHasher(SECRET).sealer("totp-secret").seal("x", bound_to="a")
    with pytest.raises(UnreadableSeal):
        SecretHasher(SECRET).sealer("webhook").open(sealed, bound_to="a")
    with pytest.raises(UnreadableSeal):
        SecretHasher(b"t" * 48).sealer("totp-secret").open(sealed, bound_to="a")


def test_the_key_is_hkdf_of_the_secret_not_the_secret() -> None:
    key = derive_key(SECRET, "totp-secret")
    assert len(key) == 32
    assert key != SECRET[:32]
    assert key != derive_key(SECRET, "other")
    assert Sealer(key).open(Sealer(key).seal("y", bound_to="b"), bound_to="b") == "y"


def test_a_mail_body_with_a_link_is_sealed_for_its_outbox_row_only() -> None:
    """The outbox's link-bearing mail: nothing of the link shows, the body opens for its own
    row, and not with another purpose's key (a TOTP seed's) or another server secret's."""
    body = "Follow this link: https://ostiary.test/reset-password?token=s3cr3t-token"
    sealed = mail_body_sealer(SECRET).seal(body, bound_to="row-1")
    assert "s3cr3t-token" not in sealed
    assert "reset-password" not in sealed
    assert mail_body_sealer(SECRET).open(sealed, bound_to="row-1") == body
    for other in (
        Sealer(derive_key(SECRET, "totp-secret")),
        mail_body_sealer(b"another server secret, 32 bytes or more"),
    ):
        with pytest.raises(UnreadableSeal):
            other.open(sealed, bound_to="row-1")
    with pytest.raises(UnreadableSeal):
        mail_body_sealer(SECRET).open(sealed, bound_to="row-2")
