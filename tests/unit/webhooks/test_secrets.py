"""Webhook secrets at rest: sealed, bound to their row, readable only with the server secret."""

from __future__ import annotations

import pytest

from ostiary.webhooks.secrets import SecretBox, UnreadableSecret

SERVER_SECRET = b"x" * 48


def test_a_sealed_secret_opens_for_its_row_only() -> None:
    box = SecretBox(SERVER_SECRET)
    sealed = box.seal("the webhook secret", bound_to="row-1")
    assert "the webhook secret" not in sealed
    assert box.open(sealed, bound_to="row-1") == "the webhook secret"
    with pytest.raises(UnreadableSecret):
        box.open(sealed, bound_to="row-2")  # copied onto another webhook


def test_sealing_twice_gives_different_ciphertexts() -> None:
    box = SecretBox(SERVER_SECRET)
    assert box.seal("same", bound_to="r") != box.seal("same", bound_to="r")


def test_another_server_secret_or_tampering_does_not_open() -> None:
    sealed = SecretBox(SERVER_SECRET).seal("value", bound_to="r")
    with pytest.raises(UnreadableSecret):
        SecretBox(b"y" * 48).open(sealed, bound_to="r")
    flipped = sealed[:-2] + ("A" if sealed[-2] != "A" else "B") + sealed[-1]
    for broken in (flipped, "v1:not base64!", "v0:" + sealed[3:], ""):
        with pytest.raises(UnreadableSecret):
            SecretBox(SERVER_SECRET).open(broken, bound_to="r")
