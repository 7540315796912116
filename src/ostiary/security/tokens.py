"""Token minting: a type prefix, 160+ random bits and a CRC32 checksum, all in base62.

A token looks like ``ostk_<30 random base62 chars><6 checksum chars>``. The prefix names the kind
(so a leaked token can be recognised and routed to its owner), the random part comes from
``secrets`` (30 base62 characters hold about 178 bits), and the checksum lets a secret scanner tell
a real token from a lookalike without asking the server (the scheme GitHub uses for its tokens).
"""

from __future__ import annotations

import enum
import secrets
import string
import zlib

BASE62 = string.digits + string.ascii_uppercase + string.ascii_lowercase
RANDOM_LENGTH = 30
CHECKSUM_LENGTH = 6
REDACTION = "*" * 10


class TokenKind(enum.StrEnum):
    """The kinds of bearer secrets, by prefix."""

    API_KEY = "ostk_"
    AUTHORIZATION = "osta_"
    OAUTH_ACCESS = "osto_"
    OAUTH_REFRESH = "ostr_"


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


def mint_token(kind: TokenKind) -> str:
    """A new random token of the given kind."""
    body = kind.value + "".join(secrets.choice(BASE62) for _ in range(RANDOM_LENGTH))
    return body + _checksum(body)


def token_kind(token: str) -> TokenKind | None:
    """The kind of a well-formed token, or None when it is malformed or its checksum is wrong.

    This is the offline check a secret scanner does; it says nothing about whether the token is
    live, which only the server knows.
    """
    for kind in TokenKind:
        if token.startswith(kind.value):
            break
    else:
        return None
    if len(token) != len(kind.value) + RANDOM_LENGTH + CHECKSUM_LENGTH:
        return None
    body, checksum = token[:-CHECKSUM_LENGTH], token[-CHECKSUM_LENGTH:]
    if not all(char in BASE62 for char in token[len(kind.value) :]):
        return None
    if not secrets.compare_digest(_checksum(body), checksum):
        return None
    return kind


def display_parts(token: str) -> tuple[str, str]:
    """The non-secret ends of a token shown in listings: its prefix plus four characters, and
    its last four characters (part of the checksum)."""
    return token[: token.index("_") + 5], token[-4:]


def redact(head: str, tail: str) -> str:
    """A token's listing form, ``head**********tail`` (exactly ten stars, as Heroku's)."""
    return f"{head}{REDACTION}{tail}"
