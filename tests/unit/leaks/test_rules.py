"""Reading leak reports and scanning text (leaks.rules), without storage."""

from __future__ import annotations

import pytest

from ostiary.errors import InvalidParams
from ostiary.leaks.rules import (
    MAX_REPORTED_TOKENS,
    parse_github_payload,
    parse_public_report,
    revocable_kind,
    scan_text,
)
from ostiary.security.tokens import TokenKind, mint_token


def _look_alike(token: str) -> str:
    """The token with its last checksum character changed: the right shape, a wrong CRC."""
    return token[:-1] + ("A" if token[-1] != "A" else "B")


def test_a_github_payload_is_read_item_by_item() -> None:
    token = mint_token(TokenKind.AUTHORIZATION)
    reported = parse_github_payload(
        [{"token": token, "type": "ostiary_token", "url": "https://x.test/a", "source": "content"}]
    )
    assert [(r.token, r.type, r.url, r.source) for r in reported] == [
        (token, "ostiary_token", "https://x.test/a", "content")
    ]


@pytest.mark.parametrize(
    ("payload", "field"),
    [
        ({"token": "x"}, "body"),
        ([{"type": "t"}], "[0].token"),
        (["ostk_"], "[0].token"),
        ([{"token": "x", "url": 5}], "[0].url"),
        ([{"token": "x" * 201}], "[0].token"),
        ([{"token": "x"}] * (MAX_REPORTED_TOKENS + 1), "body"),
    ],
)
def test_a_malformed_github_payload_is_refused_naming_the_field(
    payload: object, field: str
) -> None:
    with pytest.raises(InvalidParams) as refused:
        parse_github_payload(payload)
    assert refused.value.field == field


def test_a_public_report_needs_a_token_and_where_it_was_seen() -> None:
    assert parse_public_report({"token": "t", "url": "https://x.test"}).url == "https://x.test"
    for payload, field in (({"url": "u"}, "token"), ({"token": "t"}, "url"), ([], "body")):
        with pytest.raises(InvalidParams) as refused:
            parse_public_report(payload)
        assert refused.value.field == field


def test_only_well_formed_tokens_are_worth_a_lookup_and_every_kind_is() -> None:
    # Client secrets and authorization codes too: a leak report revokes every kind.
    for kind in TokenKind:
        assert revocable_kind(mint_token(kind)) == kind
        assert revocable_kind(_look_alike(mint_token(kind))) is None
    assert revocable_kind("ostk_short") is None
    assert revocable_kind("ostx_" + mint_token(TokenKind.API_KEY)[5:]) is None


def test_scanning_finds_real_tokens_with_their_lines_and_drops_look_alikes() -> None:
    real, other = mint_token(TokenKind.API_KEY), mint_token(TokenKind.OAUTH_REFRESH)
    fake = _look_alike(mint_token(TokenKind.AUTHORIZATION))
    text = f"first line\nexport KEY={real}\nfake={fake}\n\n'{other}' and x{real}\n"
    found = list(scan_text(text))
    # The one glued to a word character ("x...") is part of a longer word, not a token.
    assert [(f.token, f.line) for f in found] == [(real, 2), (other, 5)]
    assert found[0].redacted == f"{real[:9]}{'*' * 10}{real[-4:]}"
    assert real[9:-4] not in found[0].redacted
