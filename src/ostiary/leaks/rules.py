"""Pure decisions of the leak response: reading a report (GitHub's payload, a public report),
which reported tokens are worth a lookup, and finding tokens in text.

A token's checksum (``security.tokens``) answers most of it without storage: a string of the
right shape whose CRC32 does not match is noise (a look-alike, a test fixture, a typo), labelled
``false_positive`` without touching the database and never printed by ``ostiary scan``.
"""

from __future__ import annotations

import re
from collections.abc import Iterator
from typing import Any

from ostiary.errors import InvalidParams
from ostiary.leaks.records import FoundToken, ReportedToken
from ostiary.security.tokens import CHECKSUM_LENGTH, RANDOM_LENGTH, TokenKind, token_kind

# One payload revokes at most this many tokens: the work of a request stays bounded (a hash and
# an indexed lookup per token) whatever the body cap allows. GitHub batches its reports.
MAX_REPORTED_TOKENS = 500
MAX_URL_LENGTH = 2000
MAX_FIELD_LENGTH = 200

# The kinds a leak report can revoke: every stored secret Ostiary issues. The bearer tokens
# that act for an account, an OAuth client's secret (``ostc_``: retired until its owner
# rotates it) and an authorization code (``ostg_``: spent, its grant revoked).
REVOCABLE_KINDS = frozenset(
    {
        TokenKind.API_KEY,
        TokenKind.AUTHORIZATION,
        TokenKind.OAUTH_ACCESS,
        TokenKind.OAUTH_REFRESH,
        TokenKind.CLIENT_SECRET,
        TokenKind.GRANT_CODE,
    }
)

# Any token-shaped string not glued to more word characters: the prefix, then exactly the
# random part and the checksum (docs/token-formats.md publishes the same expression).
TOKEN_PATTERN = re.compile(
    r"(?<![0-9A-Za-z_])(?:"
    + "|".join(kind.value for kind in TokenKind)
    + rf")[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}(?![0-9A-Za-z_])"
)


def _text(item: dict[str, Any], name: str, field: str, limit: int) -> str:
    value = item.get(name, "")
    if value is None:
        value = ""
    if not isinstance(value, str) or len(value) > limit:
        raise InvalidParams(field, f"{field} must be a string of at most {limit} characters.")
    return value


def parse_github_payload(payload: Any) -> list[ReportedToken]:
    """The tokens of GitHub's parsed payload, a JSON array of ``{token, type, url, source}``;
    InvalidParams naming what is wrong (not an array, too long, an item without a token)."""
    if not isinstance(payload, list):
        raise InvalidParams("body", "The payload must be a JSON array of reported tokens.")
    if len(payload) > MAX_REPORTED_TOKENS:
        raise InvalidParams(
            "body", f"A payload may report at most {MAX_REPORTED_TOKENS} tokens at once."
        )
    reported = []
    for index, item in enumerate(payload):
        if not isinstance(item, dict) or not isinstance(item.get("token"), str):
            raise InvalidParams(f"[{index}].token", "Each item must be an object with a token.")
        reported.append(
            ReportedToken(
                token=_text(item, "token", f"[{index}].token", MAX_FIELD_LENGTH),
                type=_text(item, "type", f"[{index}].type", MAX_FIELD_LENGTH),
                url=_text(item, "url", f"[{index}].url", MAX_URL_LENGTH),
                source=_text(item, "source", f"[{index}].source", MAX_FIELD_LENGTH),
            )
        )
    return reported


def parse_public_report(payload: Any) -> ReportedToken:
    """The token of a public report, ``{"token": ..., "url": where it was seen}``."""
    if not isinstance(payload, dict):
        raise InvalidParams("body", 'The report must be an object: {"token": ..., "url": ...}.')
    token = _text(payload, "token", "token", MAX_FIELD_LENGTH)
    if not token:
        raise InvalidParams("token", "token is required: the token you found.")
    url = _text(payload, "url", "url", MAX_URL_LENGTH)
    if not url:
        raise InvalidParams("url", "url is required: where you found the token.")
    return ReportedToken(token=token, type="", url=url, source="public-report")


def revocable_kind(token: str) -> TokenKind | None:
    """The kind of a reported token worth a lookup: well formed, its checksum right, and of a
    kind a report revokes; None for everything else (answered without storage)."""
    kind = token_kind(token)
    return kind if kind in REVOCABLE_KINDS else None


def scan_text(text: str) -> Iterator[FoundToken]:
    """Every token in ``text`` whose checksum is right, with its line; look-alikes (the right
    shape, a wrong checksum) are dropped."""
    line, counted_to = 1, 0
    for match in TOKEN_PATTERN.finditer(text):
        line += text.count("\n", counted_to, match.start())
        counted_to = match.start()
        if token_kind(match.group()) is not None:
            yield FoundToken(token=match.group(), line=line)
