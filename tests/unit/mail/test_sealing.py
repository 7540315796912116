"""Sealed mail bodies: readable by this server for their own outbox row only."""

from __future__ import annotations

import secrets

import pytest

from ostiary.mail.sealing import BodySeal, UnreadableBody

SECRET = secrets.token_bytes(48)
BODY = "Follow this link: https://ostiary.test/reset-password?token=s3cr3t-token"


def test_a_sealed_body_opens_for_its_row_and_shows_nothing_of_itself() -> None:
    seal = BodySeal(SECRET)
    sealed = seal.seal(BODY, bound_to="row-1")
    assert "s3cr3t-token" not in sealed
    assert "reset-password" not in sealed
    assert seal.open(sealed, bound_to="row-1") == BODY
    assert seal.seal(BODY, bound_to="row-1") != sealed  # a fresh nonce each time


def test_a_body_copied_to_another_row_does_not_open() -> None:
    seal = BodySeal(SECRET)
    with pytest.raises(UnreadableBody):
        seal.open(seal.seal(BODY, bound_to="row-1"), bound_to="row-2")


def test_another_server_secret_cannot_open_it() -> None:
    sealed = BodySeal(SECRET).seal(BODY, bound_to="row-1")
    with pytest.raises(UnreadableBody):
        BodySeal(secrets.token_bytes(48)).open(sealed, bound_to="row-1")


@pytest.mark.parametrize("tampered", ["m1:AAAA", "m1:not base64!", "plain text", ""])
def test_a_tampered_or_foreign_body_is_refused(tampered: str) -> None:
    with pytest.raises(UnreadableBody):
        BodySeal(SECRET).open(tampered, bound_to="row-1")


def test_a_flipped_byte_is_refused() -> None:
    seal = BodySeal(SECRET)
    sealed = seal.seal(BODY, bound_to="row-1")
    flipped = sealed[:-6] + ("A" if sealed[-6] != "A" else "B") + sealed[-5:]
    with pytest.raises(UnreadableBody):
        seal.open(flipped, bound_to="row-1")
