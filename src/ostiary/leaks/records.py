"""What the leak response reads and hands back: a reported token, its verdict, a token found by
scanning."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

Label = Literal["true_positive", "false_positive"]


@dataclass(frozen=True, slots=True)
class ReportedToken:
    """One token reported exposed: the token, the type the reporter gave it, where it was seen
    (``url``) and by what kind of source (GitHub's ``source``, e.g. ``content``)."""

    token: str
    type: str
    url: str
    source: str


@dataclass(frozen=True, slots=True)
class Verdict:
    """The answer about one reported token, in GitHub's partner program shape."""

    token_raw: str
    token_type: str
    label: Label

    def as_json(self) -> dict[str, str]:
        """The object GitHub expects for this token."""
        return {"token_raw": self.token_raw, "token_type": self.token_type, "label": self.label}


@dataclass(frozen=True, slots=True)
class FoundToken:
    """A token with a valid checksum found by scanning text: where (line, 1-based) and what."""

    token: str
    line: int

    @property
    def redacted(self) -> str:
        """The token as it may be printed: its prefix and four characters, stars, its last four
        (the listings' form, ``security.tokens.redact``)."""
        head = self.token[: self.token.index("_") + 5]
        return f"{head}{'*' * 10}{self.token[-4:]}"
