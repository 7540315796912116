"""PKCE (RFC 7636, S256 only; rules R5-R8 of docs/oauth-server-rules.md): what a client that
sends a verifier observes, and what an attacker holding only the code or the challenge gets."""

from __future__ import annotations

import hmac
import string

import pytest

from ostiary.oauth2.rfc7636 import (
    SUPPORTED_METHODS,
    is_valid_challenge,
    is_valid_verifier,
    s256,
    verify,
)

# RFC 7636 appendix B: the verifier and the S256 challenge it yields.
APPENDIX_B_VERIFIER = "dBjftJeZ4CVP-mB92K27uhbUJU1p1r_wW1gFWFOEjXk"
APPENDIX_B_CHALLENGE = "E9Melhoa2OwvFrEMTJguCHaoeK1t8URWbuGJSstw-cM"
UNRESERVED = string.ascii_letters + string.digits + "-._~"


def test_the_appendix_b_vector_gives_the_published_challenge() -> None:
    assert s256(APPENDIX_B_VERIFIER) == APPENDIX_B_CHALLENGE
    assert verify(APPENDIX_B_VERIFIER, APPENDIX_B_CHALLENGE)


def test_only_s256_is_offered() -> None:
    assert SUPPORTED_METHODS == ("S256",)


def test_plain_is_refused_a_verifier_sent_as_its_own_challenge_does_not_match() -> None:
    # With "plain" the challenge is the verifier itself; an S256-only server never accepts that.
    assert not verify(APPENDIX_B_VERIFIER, APPENDIX_B_VERIFIER)


@pytest.mark.parametrize(
    "wrong",
    [
        APPENDIX_B_VERIFIER[:-1] + "l",  # one character off
        APPENDIX_B_VERIFIER.upper(),
        APPENDIX_B_VERIFIER + "x",
        "a" * 43,
    ],
)
def test_a_wrong_verifier_is_refused(wrong: str) -> None:
    assert not verify(wrong, APPENDIX_B_CHALLENGE)


def test_a_verifier_is_refused_against_another_codes_challenge() -> None:
    assert not verify(APPENDIX_B_VERIFIER, s256("b" * 43))


@pytest.mark.parametrize(
    ("length", "valid"), [(0, False), (42, False), (43, True), (128, True), (129, False)]
)
def test_verifier_length_bounds(length: int, valid: bool) -> None:
    verifier = "a" * length
    assert is_valid_verifier(verifier) is valid
    # Even with the challenge it really hashes to, a verifier of the wrong length is refused.
    assert verify(verifier, s256(verifier)) is valid


def test_every_unreserved_character_is_allowed() -> None:
    verifier = (UNRESERVED * 2)[:128]
    assert is_valid_verifier(verifier)
    assert verify(verifier, s256(verifier))


@pytest.mark.parametrize("bad", ["+", "/", "=", " ", "%", "\n", "é", "\x00"])
def test_characters_outside_the_unreserved_set_are_refused(bad: str) -> None:
    verifier = "a" * 42 + bad
    assert not is_valid_verifier(verifier)
    assert not verify(verifier, APPENDIX_B_CHALLENGE)  # refused, never an encoding error


@pytest.mark.parametrize(
    ("challenge", "valid"),
    [
        (APPENDIX_B_CHALLENGE, True),
        (APPENDIX_B_CHALLENGE + "=", False),  # padded base64
        (APPENDIX_B_CHALLENGE[:-1], False),
        ("+" * 43, False),  # base64, not base64url
        (APPENDIX_B_VERIFIER + "~", False),  # a verifier's alphabet, not a challenge's
    ],
)
def test_a_challenge_is_43_base64url_characters(challenge: str, valid: bool) -> None:
    assert is_valid_challenge(challenge) is valid


def test_the_comparison_is_constant_time(monkeypatch: pytest.MonkeyPatch) -> None:
    compared: list[tuple[str, str]] = []
    real = hmac.compare_digest

    def spy(a: str, b: str) -> bool:
        compared.append((a, b))
        return real(a, b)

    monkeypatch.setattr(hmac, "compare_digest", spy)  # what rfc7636 calls, as hmac.compare_digest
    assert verify(APPENDIX_B_VERIFIER, APPENDIX_B_CHALLENGE)
    assert not verify("c" * 43, APPENDIX_B_CHALLENGE)
    assert compared == [
        (APPENDIX_B_CHALLENGE, APPENDIX_B_CHALLENGE),
        (s256("c" * 43), APPENDIX_B_CHALLENGE),
    ]
