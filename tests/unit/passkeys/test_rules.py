"""The passkey rules without storage: the relying party of a URL, the challenge an answer
carries, the signature counter (WebAuthn L2 section 7.2 step 21), names and transports."""

from __future__ import annotations

import base64
import json

import pytest

from ostiary.passkeys.errors import InvalidPasskeyName
from ostiary.passkeys.records import RelyingParty
from ostiary.passkeys.rules import (
    answered_challenge,
    b64url,
    b64url_decode,
    passkey_name,
    relying_party,
    sign_count_advanced,
    transports_of,
    user_handle_matches,
)


@pytest.mark.parametrize(
    ("url", "expected"),
    [
        ("https://id.example.com", RelyingParty("id.example.com", "https://id.example.com")),
        ("https://id.example.com:443/", RelyingParty("id.example.com", "https://id.example.com")),
        (
            "https://ID.Example.com:8443/x",
            RelyingParty("id.example.com", "https://id.example.com:8443"),
        ),
        ("http://localhost:5000", RelyingParty("localhost", "http://localhost:5000")),
        ("http://[::1]:5000", RelyingParty("::1", "http://[::1]:5000")),
    ],
)
def test_the_relying_party_is_the_host_and_the_origin_is_exact(
    url: str, expected: RelyingParty
) -> None:
    assert relying_party(url) == expected


@pytest.mark.parametrize("url", ["ftp://example.com", "https://", "example.com"])
def test_a_url_without_an_http_host_has_no_relying_party(url: str) -> None:
    with pytest.raises(ValueError, match="not an http"):
        relying_party(url)


@pytest.mark.parametrize(
    ("stored", "presented", "accepted"),
    [
        (0, 0, True),  # no counter (synced passkeys): nothing to compare
        (0, 1, True),
        (5, 6, True),
        (5, 5, False),  # the same count again: a clone, or a replay
        (5, 3, False),  # went back: a clone used after the original
        (5, 0, False),  # a counting authenticator that stopped counting
    ],
)
def test_the_signature_counter_must_go_up(stored: int, presented: int, accepted: bool) -> None:
    assert sign_count_advanced(stored, presented) is accepted


def _answer(client_data: object) -> dict[str, object]:
    encoded = b64url(json.dumps(client_data).encode())
    return {"response": {"clientDataJSON": encoded}}


def test_the_answered_challenge_is_read_from_the_client_data() -> None:
    assert answered_challenge(_answer({"type": "webauthn.get", "challenge": "abc"})) == "abc"


@pytest.mark.parametrize(
    "answer",
    [
        "a string",
        {},
        {"response": "x"},
        {"response": {"clientDataJSON": "%%%"}},
        {"response": {"clientDataJSON": b64url(b"not json")}},
        {"response": {"clientDataJSON": b64url(b"[" * 100_000)}},
        _answer(["challenge"]),
        _answer({"challenge": ""}),
        _answer({"challenge": 7}),
    ],
)
def test_an_answer_without_a_challenge_is_refused(answer: object) -> None:
    with pytest.raises(ValueError):  # noqa: PT011 - each shape has its own message
        answered_challenge(answer)


def test_base64url_round_trips_with_or_without_padding() -> None:
    data = bytes(range(256))
    assert b64url_decode(b64url(data)) == data
    assert b64url_decode(base64.urlsafe_b64encode(b"ab").decode()) == b"ab"
    with pytest.raises(ValueError, match="base64url"):
        b64url_decode("a")


def test_names_are_trimmed_and_bounded() -> None:
    assert passkey_name("  Work   laptop ") == "Work laptop"
    assert passkey_name("x" * 100) == "x" * 100
    for bad in ("", "   ", "x" * 101, "evil\u202eexe", "bell\x07"):
        with pytest.raises(InvalidPasskeyName):
            passkey_name(bad)


def test_only_known_transports_are_kept_once_each() -> None:
    credential = {"response": {"transports": ["usb", "internal", "usb", "carrier-pigeon", 7]}}
    assert transports_of(credential) == ["usb", "internal"]
    assert transports_of({"response": {"transports": "usb"}}) == []
    assert transports_of("nothing") == []


def test_the_user_handle_must_name_the_credentials_owner() -> None:
    def answer(handle: object) -> dict[str, object]:
        return {"response": {"userHandle": handle}}

    assert user_handle_matches(answer(b64url(b"account-1")), "account-1")
    assert user_handle_matches(answer(None), "account-1")  # optional for a listed credential
    assert user_handle_matches({"response": {}}, "account-1")
    assert not user_handle_matches(answer(b64url(b"account-2")), "account-1")
    assert not user_handle_matches(answer("%%%"), "account-1")
    assert not user_handle_matches(answer(7), "account-1")
