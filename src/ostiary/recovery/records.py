"""What the recovery services are handed: where their mail's links point and how it is queued."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import timedelta

from ostiary.security.sealing import Sealer


@dataclass(frozen=True, slots=True)
class Mailroom:
    """How account mail leaves: the public URL its links start with, and the seal of the
    bodies that carry a link; ``seal`` is None when no SMTP server is configured (then nothing
    is queued, and the pages say mail is off)."""

    base_url: str
    seal: Sealer | None
    # How long a notice (no link in it) is retried before it is given up.
    notice_window: timedelta = timedelta(days=1)

    @property
    def enabled(self) -> bool:
        """Whether mail is sent at all on this server."""
        return self.seal is not None

    def link(self, path: str, token: str) -> str:
        """The absolute URL of a page taking a link's token (in the query: the access log
        never records a path or query, ``web.access_log``)."""
        return f"{self.base_url.rstrip('/')}{path}?token={token}"


@dataclass(frozen=True, slots=True)
class EmailChange:
    """What asking for a new email did: ``pending`` until the link mailed to ``email`` is
    followed; applied at once (unverified) on a server without mail."""

    email: str
    pending: bool
