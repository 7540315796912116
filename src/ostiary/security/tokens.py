"""Token minting: a type prefix, 160+ random bits and a CRC32 checksum, all in base62.

A token looks like ``ostk_<30 random base62 chars><6 checksum chars>``. The prefix names the kind
(so a leaked token can be recognised and routed to its owner), the random part comes from
``secrets`` (30 base62 characters hold about 178 bits), and the checksum lets a secret scanner tell
a real token from a lookalike without asking the server (the scheme GitHub uses for its tokens).
"""

from __future__ import annotations

import enum
import re
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
    CLIENT_SECRET = "ostc_"  # noqa: S105 (a prefix, not a secret)
    GRANT_CODE = "ostg_"


_SHAPE = re.compile(
    "(?:"
    + "|".join(re.escape(kind.value) for kind in TokenKind)
    + ")"
    + f"[0-9A-Za-z]{{{RANDOM_LENGTH + CHECKSUM_LENGTH}}}"
)


def _base62(number: int, width: int) -> str:
    digits = []
    for _ in range(width):
        number, digit = divmod(number, 62)
        digits.append(BASE62[digit])
    return "".join(reversed(digits))


_BASE62_VALUE = {char: value for value, char in enumerate(BASE62)}


def _from_base62(text: str) -> int:
    number = 0
    for char in text:
        number = number * 62 + _BASE62_VALUE[char]
    return number


def _checksum(body: str) -> str:
    return _base62(zlib.crc32(body.encode("ascii")), CHECKSUM_LENGTH)


_UNBIASED_BELOW = 256 - 256 % 62  # 248: bytes below it map onto the 62 digits evenly


def _random_base62(length: int) -> str:
    """``length`` uniformly random base62 digits: random bytes, each kept only when below 248
    (a multiple of 62) so that ``byte % 62`` favours no digit."""
    digits: list[str] = []
    while len(digits) < length:
        digits += [BASE62[b % 62] for b in secrets.token_bytes(length + 4) if b < _UNBIASED_BELOW]
    return "".join(digits[:length])


def mint_token(kind: TokenKind) -> str:
    """A new random token of the given kind."""
    body = kind.value + _random_base62(RANDOM_LENGTH)
    return body + _checksum(body)


def token_kind(token: str) -> TokenKind | None:
    """The kind of a well-formed token, or None when it is malformed or its checksum is wrong.

    This is the offline check a secret scanner does; it says nothing about whether the token is
    live, which only the server knows.
    """
    if _SHAPE.fullmatch(token) is None:
        return None
    body, checksum = token[:-CHECKSUM_LENGTH], token[-CHECKSUM_LENGTH:]
    # Decoding the checksum (rather than encoding the CRC) keeps this cheap on every request;
    # the CRC is public data, so comparing integers in variable time reveals nothing.
    if _from_base62(checksum) != zlib.crc32(body.encode("ascii")):
        return None
    return TokenKind(token[: token.index("_") + 1])


def display_parts(token: str) -> tuple[str, str]:
    """The non-secret ends of a token shown in listings: its prefix plus four characters, and
    its last four characters (part of the checksum)."""
    return token[: token.index("_") + 5], token[-4:]


def redact(head: str, tail: str) -> str:
    """A token's listing form, ``head**********tail`` (exactly ten stars, as Heroku's)."""
    return f"{head}{REDACTION}{tail}"
