"""Token minting: prefixes, entropy, the offline checksum, redaction."""

from __future__ import annotations

import string

from hypothesis import given
from hypothesis import strategies as st

from ostiary.security.tokens import (
    BASE62,
    RANDOM_LENGTH,
    TokenKind,
    display_parts,
    mint_token,
    redact,
    token_kind,
)


def test_each_kind_has_its_own_prefix_and_verifies() -> None:
    for kind in TokenKind:
        token = mint_token(kind)
        assert token.startswith(kind.value)
        assert token_kind(token) is kind


def test_at_least_160_random_bits() -> None:
    import math

    assert RANDOM_LENGTH * math.log2(len(BASE62)) >= 160


def test_tokens_do_not_repeat() -> None:
    assert len({mint_token(TokenKind.API_KEY) for _ in range(2000)}) == 2000


@given(st.data())
def test_any_single_character_change_breaks_the_checksum(data: st.DataObject) -> None:
    token = mint_token(TokenKind.AUTHORIZATION)
    position = data.draw(st.integers(min_value=len("osta_"), max_value=len(token) - 1))
    replacement = data.draw(st.sampled_from([c for c in BASE62 if c != token[position]]))
    tampered = token[:position] + replacement + token[position + 1 :]
    assert token_kind(tampered) is None


@given(st.text(alphabet=string.printable, max_size=60))
def test_random_text_is_not_a_token(text: str) -> None:
    assert token_kind(text) is None or text.startswith(tuple(k.value for k in TokenKind))


def test_redaction_has_exactly_ten_stars() -> None:
    token = mint_token(TokenKind.API_KEY)
    head, tail = display_parts(token)
    shown = redact(head, tail)
    assert shown == f"{token[:9]}{'*' * 10}{token[-4:]}"
